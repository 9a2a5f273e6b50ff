import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { modelDirectory, type Config } from '../../config.ts';
import {
  CancelledError,
  EngineFailedError,
  InvalidInputError,
  ModelNotAvailableError,
  ServerError,
} from '../../errors.ts';
import {
  readQwen3Manifest,
  type Qwen3Manifest,
  type Qwen3VariantDtype,
} from '../../models/qwen3-manifest.ts';
import { MODEL_REGISTRY } from '../../models/model-registry.ts';
import { installHint, isSyntheticManifest, syntheticModelWarning } from '../../models/install-hint.ts';
import { modelFingerprint } from '../../models/model-fingerprint.ts';
import { chooseProvider, type ProviderChoice } from '../../onnx/session-options.ts';
import { verifyInstalledModel } from '../../models/verify-model-files.ts';
import { DiskCache } from '../../storage/disk-cache.ts';
import { LRUCache } from 'lru-cache';
import { workerScript } from '../../onnx/start-worker.ts';
import { crashError, WorkerPool } from '../../onnx/worker-pool.ts';
import type { SpeechStreamPart } from '../interfaces/speech-stream-parts.ts';
import {
  LANGUAGES,
  type EngineCapabilities,
  MODEL_KEYS,
  type EngineHealth,
  type Language,
  type ModelKey,
  type ModelStatus,
  type SpeechRequest,
  type TtsEngine,
  type VoicePrompt,
  type VoicePromptRequest,
} from '../interfaces/tts-engine.ts';
import type { GenerationRequest } from './generate.ts';
import { resolveGenerationSettings } from './generation-settings.ts';
import type { VoiceData } from './prompt.ts';
import type { WorkerConfiguration, WorkerResponse } from './worker-protocol.ts';
import { AsyncQueue } from '../../onnx/async-queue.ts';

/**
 * TTS_DTYPE → the variant to load; what a device cannot run is refused with what to set instead.
 * int4 / int8 run on both providers: their MatMulNBits nodes have CPU and CUDA kernels in ONNX Runtime,
 * and everything around them is float32.
 */
export function variantFor(dtype: Config['TTS_DTYPE'], provider: ProviderChoice): Qwen3VariantDtype {
  if (dtype === 'bfloat16') {
    throw new Error(
      'TTS_DTYPE=bfloat16 has no ONNX variant: exports come in float32, float16, int8 and int4. Set TTS_DTYPE=float16 on a GPU, or float32 (or int8 / int4) on CPU.',
    );
  }
  if (dtype === 'float16' && provider.device.kind === 'cpu') {
    throw new Error(
      'TTS_DTYPE=float16 on the CPU provider runs through slow casts and lacks kernels: set TTS_DTYPE=float32 (or TTS_DEVICE=cuda:0 with the CUDA provider).',
    );
  }
  return dtype;
}

/** Voice prompts kept in memory (the rest are read back from disk when used again). */
const VOICES_IN_MEMORY = 512;

/**
 * The embedded Qwen3-TTS engine: models run in worker threads (TTS_WORKERS per model, one utterance
 * at a time each — requests queue for a free worker, so outputs never mix), voice prompts are cached
 * by content in memory and under CACHE_DIR.
 */
export class Qwen3OnnxEngine implements TtsEngine {
  readonly name = 'qwen3-onnx';
  readonly capabilities: EngineCapabilities = { voiceCloning: true, streaming: true, sampleRate: 24000 };
  readonly languages: readonly Language[] = LANGUAGES;
  private readonly pools = new Map<ModelKey, WorkerPool<WorkerResponse>>();
  private readonly loading = new Map<ModelKey, Promise<void>>();
  /** Voice prompts by content: a few kilobytes each, the most recently used kept in memory. */
  private readonly voices = new LRUCache<string, Promise<VoiceData>>({ max: VOICES_IN_MEMORY });
  private readonly voiceFiles: DiskCache;
  private readonly manifests = new Map<ModelKey, Qwen3Manifest>();
  /** Per loaded model, what its voice prompts are cached under (modelFingerprint). */
  private readonly fingerprints = new Map<ModelKey, string>();
  private readonly provider: ProviderChoice;
  private readonly variant: Qwen3VariantDtype;

  constructor(
    private readonly config: Config,
    private readonly logger?: Logger,
    private readonly options: {
      allowTestHooks?: boolean;
      firstChunkFrames?: number;
      chunkFrames?: number;
    } = {},
  ) {
    this.provider = chooseProvider(config.TTS_DEVICE, {
      threads: config.TTS_THREADS,
      tensorRt: config.TTS_TENSORRT,
      niceness: config.WORKER_NICENESS,
      spinning: config.TTS_THREAD_SPINNING,
    });
    this.variant = variantFor(config.TTS_DTYPE, this.provider);
    this.voiceFiles = new DiskCache({
      directory: path.join(config.CACHE_DIR, 'voices'),
      maxBytes: config.VOICE_CACHE_DISK_MB * 1024 * 1024,
      logger,
      label: 'voice prompt',
    });
    logger?.info(`speech engine: Qwen3-TTS on ONNX Runtime (${this.provider.device.kind}, ${this.variant})`);
  }

  async models(): Promise<ModelStatus[]> {
    return Promise.all(
      MODEL_KEYS.map(async (key) => {
        const location = modelDirectory(this.config, key);
        const installed = existsSync(path.join(location, 'manifest.json'));
        return {
          key,
          installed,
          loaded: this.pools.has(key),
          location,
          ...((await this.isSynthetic(key, location, installed)) ? { synthetic: true } : {}),
        };
      }),
    );
  }

  /** A loaded model's manifest is in memory; an installed one's is read (it is small). */
  private async isSynthetic(key: ModelKey, directory: string, installed: boolean): Promise<boolean> {
    const loaded = this.manifests.get(key);
    if (loaded) return isSyntheticManifest(loaded);
    if (!installed) return false;
    const text = await readFile(path.join(directory, 'manifest.json'), 'utf8').catch(() => undefined);
    try {
      return text !== undefined && isSyntheticManifest(JSON.parse(text));
    } catch {
      return false; // a damaged manifest is reported when the model loads
    }
  }

  loadedModels(): ModelKey[] {
    return [...this.pools.keys()];
  }

  /** The loaded weights' fingerprint (files and variant): stored renders are keyed by it. */
  modelIdentity(key: ModelKey): string | undefined {
    return this.pools.has(key) ? this.fingerprints.get(key) : undefined;
  }

  syntheticModels(): ModelKey[] {
    return this.loadedModels().filter((key) => isSyntheticManifest(this.manifests.get(key)));
  }

  async loadModel(key: ModelKey): Promise<void> {
    if (this.pools.has(key)) return;
    let loading = this.loading.get(key);
    if (!loading) {
      loading = this.startPool(key).finally(() => this.loading.delete(key));
      this.loading.set(key, loading);
    }
    return loading;
  }

  private async startPool(key: ModelKey): Promise<void> {
    const directory = modelDirectory(this.config, key);
    const variable = MODEL_REGISTRY[key].directoryVariable;
    if (!existsSync(path.join(directory, 'manifest.json'))) {
      throw new ModelNotAvailableError(
        `model ${key} is not installed (looked in ${path.relative(process.cwd(), directory) || '.'}): ${installHint(key, directory)}`,
      );
    }
    const manifest = await readQwen3Manifest(directory);
    if (manifest.modelKey !== key)
      throw new ModelNotAvailableError(
        `${directory} holds ${manifest.modelKey}, not ${key}: fix ${variable}`,
      );
    await this.verifyFiles(key, directory);
    // Before the workers start, so that a failure here leaves no pool running.
    const fingerprint = await modelFingerprint(directory, this.variant);
    const pool = new WorkerPool<WorkerResponse>({
      size: this.config.TTS_WORKERS,
      script: workerScript('./worker', import.meta.url),
      workerData: {
        directory,
        dtype: this.variant,
        provider: this.provider,
        decoderThreads: this.config.TTS_DECODER_THREADS,
        referenceDecoderStates: this.config.TTS_DECODER_STATES,
        allowTestHooks: this.options.allowTestHooks ?? false,
      } satisfies WorkerConfiguration,
      name: `${key} speech`,
      logger: this.logger,
    });
    try {
      await pool.start();
    } catch (error) {
      await pool.close();
      throw new ModelNotAvailableError(
        `model ${key} could not be loaded from ${directory}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.manifests.set(key, manifest);
    this.fingerprints.set(key, fingerprint);
    this.pools.set(key, pool);
    if (isSyntheticManifest(manifest)) this.logger?.warn(syntheticModelWarning(key));
  }

  /** A truncated or damaged weight file would load and speak garbage: its hash is checked first. */
  private async verifyFiles(key: ModelKey, directory: string): Promise<void> {
    const startedAt = performance.now();
    try {
      const { hashed } = await verifyInstalledModel(directory, this.variant);
      if (hashed.length > 0)
        this.logger?.info(
          `${key}: ${hashed.length} files match the manifest (${Math.round(performance.now() - startedAt)} ms; remembered for the next start)`,
        );
    } catch (error) {
      throw new ModelNotAvailableError(
        `model ${key} cannot be used: ${(error as Error).message}. Run \`npm run cli -- models pull ${key}\` again to replace it.`,
        { cause: error },
      );
    }
  }

  private pool(key: ModelKey): WorkerPool<WorkerResponse> {
    const pool = this.pools.get(key);
    if (!pool) throw new ModelNotAvailableError(`model ${key} is not loaded`);
    return pool;
  }

  async health(): Promise<EngineHealth> {
    return this.pools.size > 0 ? { ok: true } : { ok: true, message: 'no model loaded yet' };
  }

  async prepareVoice(request: VoicePromptRequest, signal: AbortSignal): Promise<VoicePrompt> {
    await this.loadModel(request.model);
    const referenceText = request.xVectorOnly ? '' : request.referenceText;
    const id = createHash('sha256')
      .update(
        `${request.model}\u0000${this.fingerprints.get(request.model)}\u0000${request.reference.hash}\u0000` +
          `${request.xVectorOnly}\u0000${referenceText}`,
      )
      .digest('hex');
    let voice = this.voices.get(id);
    if (!voice) {
      voice = this.loadOrComputeVoice(id, request, referenceText, signal);
      this.voices.set(id, voice);
      voice.catch(() => this.voices.delete(id));
    }
    return { id, model: request.model, xVectorOnly: request.xVectorOnly, data: await voice };
  }

  /** The disk cache keeps voices across restarts; a broken file is recomputed, not fatal. */
  private async loadOrComputeVoice(
    id: string,
    request: VoicePromptRequest,
    referenceText: string,
    signal: AbortSignal,
  ): Promise<VoiceData> {
    const cached = await this.voiceFiles.read(`${id}.json`);
    try {
      if (!cached) throw new Error('not cached');
      const stored = JSON.parse(cached.toString('utf8')) as {
        codes: number[];
        frames: number;
        embedding: number[];
      };
      // A stored voice of other dimensions (another model) would be used without complaint and
      // make noise: recompute it instead.
      const dimensions = this.manifests.get(request.model)!.dimensions;
      if (
        stored.embedding.length !== dimensions.speakerEmbedding ||
        stored.codes.length !== stored.frames * dimensions.codeGroups
      )
        throw new Error('stored for other dimensions');
      return {
        referenceCodes: Int32Array.from(stored.codes),
        referenceFrames: stored.frames,
        speakerEmbedding: Float32Array.from(stored.embedding),
        referenceText,
        xVectorOnly: request.xVectorOnly,
      };
    } catch {
      // Not cached yet, or an unreadable entry: computed again.
    }
    const message = await this.ask(request.model, signal, (worker, jobId) => {
      const samples = request.reference.samples.slice();
      worker.postMessage({ type: 'voice', jobId, samples, referenceText, xVectorOnly: request.xVectorOnly }, [
        samples.buffer,
      ]);
    });
    if (message.type === 'error')
      throw new InvalidInputError(
        `the reference audio could not be turned into a voice: ${message.message}`,
        { statusCode: 422 },
      );
    if (message.type !== 'voice') throw new EngineFailedError(`unexpected worker answer ${message.type}`);
    const voice: VoiceData = {
      referenceCodes: message.referenceCodes,
      referenceFrames: message.referenceFrames,
      speakerEmbedding: message.speakerEmbedding,
      referenceText,
      xVectorOnly: request.xVectorOnly,
    };
    await this.voiceFiles.write(
      `${id}.json`,
      JSON.stringify({
        codes: [...voice.referenceCodes],
        frames: voice.referenceFrames,
        embedding: [...voice.speakerEmbedding],
      }),
    );
    return voice;
  }

  /** Posts one job to a worker of the model and resolves with its one answer; the worker is then free. */
  private async ask(
    key: ModelKey,
    signal: AbortSignal,
    post: (worker: Worker, jobId: number) => void,
  ): Promise<WorkerResponse> {
    const queue = new AsyncQueue<WorkerResponse>();
    const release = await this.pool(key).job(signal, post, {
      onMessage: (message) => queue.push(message),
      onCrash: (error) => queue.fail(crashError('speech', error)),
    });
    try {
      return await queue.next();
    } finally {
      release();
    }
  }

  async *generate(request: SpeechRequest, signal: AbortSignal): AsyncGenerator<SpeechStreamPart> {
    if (signal.aborted) throw new CancelledError();
    const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
    const onAbort = () => Atomics.store(cancelFlag, 0, 1);
    signal.addEventListener('abort', onAbort, { once: true });
    const queue = new AsyncQueue<WorkerResponse>();
    const pool = this.pool(request.model);
    const settings = resolveGenerationSettings(
      this.manifests.get(request.model)!,
      request.sampling,
      this.config.TTS_MAX_NEW_TOKENS,
    );
    const release = await pool.job(
      signal,
      (worker, jobId) =>
        worker.postMessage({
          type: 'generate',
          jobId,
          voice: request.voice.data as VoiceData,
          cancelFlag,
          request: {
            ...settings,
            text: request.text,
            language: request.language,
            streaming: request.streaming,
            firstChunkFrames: this.options.firstChunkFrames,
            chunkFrames: this.options.chunkFrames,
          } satisfies GenerationRequest,
        }),
      {
        onMessage: (message) => queue.push(message),
        onCrash: (error) => queue.fail(crashError('speech', error)),
      },
    );
    let finished = false;
    try {
      yield { type: 'audio-start', sampleRate: 24000 };
      for (;;) {
        const message = await queue.next(signal);
        finished = message.type === 'end' || message.type === 'error';
        if (message.type === 'audio') yield { type: 'audio-delta', samples: message.samples };
        else if (message.type === 'end') {
          if (signal.aborted) throw new CancelledError();
          yield {
            type: 'audio-end',
            finishReason: message.finishReason,
            frames: message.frames,
            codes: message.codes,
            timings: message.timings,
          };
          return;
        } else if (message.type === 'error') {
          throw new EngineFailedError(`speech generation failed: ${message.message}`);
        }
      }
    } catch (error) {
      if (signal.aborted) throw new CancelledError();
      throw error instanceof ServerError ? error : new EngineFailedError(String(error), { cause: error });
    } finally {
      // Stops the worker's loop within a frame when the consumer leaves early (break, error, abort).
      Atomics.store(cancelFlag, 0, 1);
      signal.removeEventListener('abort', onAbort);
      // The worker finishes its current frame and reports `end`; wait for that so the next job starts clean.
      if (!finished)
        await queue
          .drainUntil((message) => message.type === 'end' || message.type === 'error', 10000)
          .catch(() => {});
      release();
    }
  }

  /** For tests: makes every worker of a model exit, as a crash would. */
  crashWorkersForTesting(key: ModelKey): void {
    this.pools.get(key)?.broadcast({ type: 'exit-for-test' });
  }

  /** Warms every worker of the model at once (each takes one job, as all are idle at startup). */
  async warmUp(key: ModelKey): Promise<number> {
    await this.loadModel(key);
    const pool = this.pool(key);
    const startedAt = performance.now();
    await Promise.all(
      Array.from({ length: pool.size }, async () => {
        const answer = await this.ask(key, AbortSignal.timeout(120_000), (worker, jobId) =>
          worker.postMessage({ type: 'warm-up', jobId }),
        );
        if (answer.type === 'error') throw new EngineFailedError(`warm-up failed: ${answer.message}`);
      }),
    );
    return performance.now() - startedAt;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
    this.manifests.clear();
  }
}

export async function createQwen3OnnxEngine(config: Config, logger?: Logger): Promise<Qwen3OnnxEngine> {
  try {
    return new Qwen3OnnxEngine(config, logger);
  } catch (error) {
    // A device or precision that cannot work is a configuration error: say so and stop.
    throw new Error(`cannot start the speech engine: ${(error as Error).message}`, { cause: error });
  }
}
