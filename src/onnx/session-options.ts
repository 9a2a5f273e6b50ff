import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';

/** Whether onnxruntime-node's CUDA provider library is present (it is downloaded, not bundled). */
export function cudaProviderInstalled(): boolean {
  const packageJson = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  const binaries = path.join(path.dirname(packageJson), 'bin', 'napi-v6', process.platform, process.arch);
  return (
    existsSync(path.join(binaries, 'libonnxruntime_providers_cuda.so')) ||
    existsSync(path.join(binaries, 'onnxruntime_providers_cuda.dll'))
  );
}

export interface ProviderChoice {
  /** cpu, or cuda with a device id (and TensorRT tried first when asked for). */
  device: { kind: 'cpu' } | { kind: 'cuda'; deviceId: number; tensorRt?: boolean };
  threads: number;
  /** How much lower than the server's the model threads' scheduling priority is (WORKER_NICENESS). */
  niceness?: number;
  /** Whether ONNX Runtime's pool threads spin while they wait for work (TTS_THREAD_SPINNING). */
  spinning?: boolean;
}

export interface ThreadSettings {
  /** Intra-op threads per session; 0: ONNX Runtime's choice (one per core). */
  threads?: number;
  tensorRt?: boolean;
  niceness?: number;
  spinning?: boolean;
}

/**
 * Turns TTS_DEVICE into execution providers. `auto` means CUDA when onnxruntime-node has its CUDA
 * provider installed, else CPU. Asking for CUDA without it is an error that says how to install it.
 */
export function chooseProvider(device: string, settings: ThreadSettings = {}): ProviderChoice {
  const { threads = 0, tensorRt = false, niceness = 0, spinning = false } = settings;
  const common = { threads, niceness, spinning };
  const cudaInstalled = cudaProviderInstalled();
  if (device === 'cpu') return { device: { kind: 'cpu' }, ...common };
  if (device === 'auto')
    return cudaInstalled
      ? { device: { kind: 'cuda', deviceId: 0 }, ...common }
      : { device: { kind: 'cpu' }, ...common };
  if (!cudaInstalled) {
    throw new Error(
      `TTS_DEVICE=${device} needs onnxruntime-node's CUDA provider, which is not installed. Install it with ` +
        '`node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12` (see README, GPU support), or set TTS_DEVICE=cpu.',
    );
  }
  return { device: { kind: 'cuda', deviceId: Number(device.split(':')[1] ?? 0), tensorRt }, ...common };
}

export function sessionOptions(choice: ProviderChoice): ort.InferenceSession.SessionOptions {
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    choice.device.kind === 'cuda'
      ? [
          ...(choice.device.tensorRt
            ? [
                {
                  name: 'tensorrt',
                  deviceId: choice.device.deviceId,
                } as ort.InferenceSession.ExecutionProviderConfig,
              ]
            : []),
          { name: 'cuda', deviceId: choice.device.deviceId },
          'cpu',
        ]
      : ['cpu'];
  return {
    executionProviders,
    graphOptimizationLevel: 'all',
    ...(choice.threads > 0 ? { intraOpNumThreads: choice.threads } : {}),
    interOpNumThreads: 1,
    // Spinning pool threads keep a core busy after each run (and between a worker's runs), which
    // takes it from other workers and from the server; session config keys, as dotted strings.
    extra: { session: { intra_op: { allow_spinning: choice.spinning ? '1' : '0' } } },
  };
}
