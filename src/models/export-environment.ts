import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import { CancelledError } from '../errors.ts';
import { ModelPullError } from './pull-errors.ts';

/** tools/export of this checkout: the exporter and its pinned requirements. */
export const EXPORT_TOOLS = fileURLToPath(new URL('../../tools/export/', import.meta.url));
const REQUIREMENTS = path.join(EXPORT_TOOLS, 'requirements.txt');
const MINIMUM_PYTHON: [number, number] = [3, 10];
const MANAGED_DIRECTORY = '.export-python';

export interface ExportPython {
  /** The interpreter that runs tools/export. */
  executable: string;
  version: string;
  /** Made and kept by models pull (under MODEL_DIR), rather than named by EXPORT_PYTHON. */
  managed: boolean;
}

export interface CommandOptions {
  /** Each line the command prints (stdout and stderr). */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  environment?: Record<string, string>;
}

/**
 * Runs a command to completion. Returns its exit code and the last lines it printed (for messages);
 * a command that cannot start is a ModelPullError naming it.
 */
export function runCommand(
  command: string,
  argumentsList: string[],
  options: CommandOptions = {},
): Promise<{ code: number; tail: string[] }> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new CancelledError('models pull was cancelled'));
    const child = spawn(command, argumentsList, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', ...options.environment },
    });
    const tail: string[] = [];
    let pending = '';
    const take = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        options.onLine?.(line);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const stop = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', stop, { once: true });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      reject(
        new ModelPullError(`cannot run ${command}: ${error.message}`, 'export_python_missing', {
          cause: error,
        }),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      if (pending.trim() !== '') tail.push(pending);
      if (options.signal?.aborted) return reject(new CancelledError('models pull was cancelled'));
      resolve({ code: code ?? (signal ? 128 : 1), tail });
    });
  });
}

async function pythonVersion(executable: string, signal?: AbortSignal): Promise<string> {
  const { code, tail } = await runCommand(
    executable,
    ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'],
    { signal, timeoutMs: 30_000 },
  );
  const version = tail.at(-1)?.trim() ?? '';
  if (code !== 0 || !/^\d+\.\d+\.\d+$/.test(version))
    throw new ModelPullError(
      `${executable} does not run as Python (${tail.join(' ') || `exit ${code}`})`,
      'export_python_missing',
    );
  const [major, minor] = version.split('.').map(Number);
  if (major < MINIMUM_PYTHON[0] || (major === MINIMUM_PYTHON[0] && minor < MINIMUM_PYTHON[1])) {
    throw new ModelPullError(
      `${executable} is Python ${version}; the exporter needs ${MINIMUM_PYTHON.join('.')} or newer. Install a newer ` +
        'Python (e.g. apt-get install python3.11 python3.11-venv) or set EXPORT_PYTHON to one.',
      'export_python_too_old',
    );
  }
  return version;
}

/** The modules tools/export imports: checked before a long download or export starts. */
const EXPORT_MODULES = [
  'torch',
  'transformers',
  'onnx',
  'onnxruntime',
  'numpy',
  'soundfile',
  'librosa',
  'qwen_tts',
];

async function missingModules(executable: string, signal?: AbortSignal): Promise<string[]> {
  const probe = [
    'import importlib.util, sys',
    `names = ${JSON.stringify(EXPORT_MODULES)}`,
    'print(" ".join(name for name in names if importlib.util.find_spec(name) is None))',
  ].join('\n');
  const { code, tail } = await runCommand(executable, ['-c', probe], { signal, timeoutMs: 60_000 });
  if (code !== 0) return EXPORT_MODULES;
  return (tail.at(-1) ?? '').split(/\s+/).filter(Boolean);
}

/**
 * The Python that runs the exporter. EXPORT_PYTHON when set (it must already have what the exporter
 * needs); otherwise a virtual environment of our own under MODEL_DIR, made from the system's python3
 * on first use with tools/export/requirements.txt, and reused while those requirements stay the same.
 * pip runs with its own configuration (a local wheel index works as PyPI does); PyTorch comes from
 * EXPORT_TORCH_INDEX (CPU builds) unless `gpu` asks for the default (CUDA) build.
 */
export async function prepareExportPython(
  config: Config,
  options: { gpu: boolean; onLine?: (line: string) => void; signal?: AbortSignal },
): Promise<ExportPython> {
  if (config.EXPORT_PYTHON !== '') {
    const executable = config.EXPORT_PYTHON;
    const version = await pythonVersion(executable, options.signal);
    const missing = await missingModules(executable, options.signal);
    if (missing.length > 0) {
      throw new ModelPullError(
        `EXPORT_PYTHON=${executable} lacks ${missing.join(', ')}: install tools/export/requirements.txt into it ` +
          '(pip install -r tools/export/requirements.txt), or unset EXPORT_PYTHON to let models pull make its own environment.',
        'export_python_incomplete',
      );
    }
    return { executable, version, managed: false };
  }
  const directory = path.resolve(config.MODEL_DIR, MANAGED_DIRECTORY);
  const executable = path.join(directory, 'bin', 'python');
  const requirements = await readFile(REQUIREMENTS, 'utf8');
  const wanted = createHash('sha256')
    .update(requirements)
    .update(options.gpu ? 'gpu' : `cpu ${config.EXPORT_TORCH_INDEX}`)
    .digest('hex');
  const marker = path.join(directory, 'requirements.sha256');
  if (existsSync(executable) && (await readFile(marker, 'utf8').catch(() => '')) === wanted) {
    return { executable, version: await pythonVersion(executable, options.signal), managed: true };
  }
  let base = 'python3';
  await pythonVersion(base, options.signal).catch(async (error: unknown) => {
    if ((error as ModelPullError).code !== 'export_python_missing') throw error;
    base = 'python';
    await pythonVersion(base, options.signal).catch(() => {
      throw new ModelPullError(
        'no Python found (python3 or python on PATH): install Python 3.10+ with its venv module, or set EXPORT_PYTHON ' +
          'to an interpreter that has tools/export/requirements.txt.',
        'export_python_missing',
      );
    });
  });
  const step = async (what: string, command: string, argumentsList: string[]) => {
    options.onLine?.(what);
    const { code, tail } = await runCommand(command, argumentsList, options);
    if (code !== 0) {
      throw new ModelPullError(
        `${what} failed (exit ${code}):\n${tail.join('\n')}`,
        'export_environment_failed',
      );
    }
  };
  await step(`making a Python environment in ${directory}`, base, ['-m', 'venv', directory]);
  const torchIndex =
    !options.gpu && config.EXPORT_TORCH_INDEX !== '' ? ['--extra-index-url', config.EXPORT_TORCH_INDEX] : [];
  await step('installing PyTorch', executable, ['-m', 'pip', 'install', 'torch', ...torchIndex]);
  await step('installing the exporter’s requirements', executable, [
    '-m',
    'pip',
    'install',
    '-r',
    REQUIREMENTS,
    ...torchIndex,
  ]);
  await writeFile(marker, wanted);
  return { executable, version: await pythonVersion(executable, options.signal), managed: true };
}
