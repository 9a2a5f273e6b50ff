import { existsSync, statfsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EXPORT_TOOLS, prepareExportPython, runCommand } from './export-environment.ts';
import type { HubFile } from './hub.ts';
import type { InstallableModelKey } from './model-registry.ts';
import { ModelPullError } from './pull-errors.ts';
import { pullFile, sha256OfFile } from './pull-file.ts';
import {
  chooseVariants,
  hubClientFor,
  PULL_RECORD_FILE,
  writeAtomically,
  type PullModelOptions,
  type PullResult,
} from './pull.ts';

/** Files of the official repositories the export never reads. */
const SKIPPED = /(^|\/)(\.gitattributes|README\.md|[^/]+\.(png|jpe?g|gif|mp4|wav|pdf))$/i;
/** A short sentence the parity check speaks with the official code and with our graphs. */
const PARITY_TEXT = '안녕하세요, 반갑습니다.';
const GIB = 1 << 30;

/**
 * `models pull` without a pre-exported repository: the official PyTorch checkpoint is downloaded
 * from the hub (resumable, every file checked against the hub's sha256 or git id), exported to our
 * layout on this machine with tools/export, checked with the exporter's parity script (the official
 * code and our graphs on one sentence), and only then moved into place. A failure at any step leaves
 * nothing installed; the downloaded checkpoint is kept so that running the command again resumes.
 */
export async function installFromOfficialCheckpoint(
  key: InstallableModelKey,
  repository: string,
  directory: string,
  options: PullModelOptions,
): Promise<PullResult> {
  const { config } = options;
  const asked = chooseVariants(options.dtype ?? config.TTS_DTYPE, key);
  // Quantized variants are made from the float32 export, which is kept: it is what the parity check
  // compares with the official code, and what drift.py measures them against.
  const variants =
    asked.some((variant) => variant === 'int4' || variant === 'int8') && !asked.includes('float32')
      ? (['float32', ...asked] as typeof asked)
      : asked;
  const gpu = options.gpu ?? false;
  if (variants.includes('float16') && !gpu) {
    throw new ModelPullError(
      'the float16 variant is exported on a CUDA GPU: add --gpu on a machine with one, or pull float32 (--dtype float32).',
      'variant_missing',
    );
  }
  const report = (
    phase: NonNullable<Parameters<NonNullable<PullModelOptions['onProgress']>>[0]>['phase'],
    message: string,
  ) => options.onProgress?.({ phase, message, fileIndex: 0, fileCount: 0, bytes: 0 });

  // The Python side first: a missing or old Python ends here, in seconds, before any download.
  report('environment', 'checking the Python side of the exporter');
  const python = await prepareExportPython(config, {
    gpu,
    signal: options.signal,
    onLine: (line) => report('environment', line),
  });

  const client = hubClientFor(
    options,
    '. Check the network or set HF_ENDPOINT to a reachable mirror; or export elsewhere and copy the result ' +
      'into a directory named by MODEL_0_6B_BASE / MODEL_1_7B_BASE.',
  );
  const revision = 'main';
  const hint = `Is ${repository} on ${config.HF_ENDPOINT}? Set HF_ENDPOINT to a hub that holds it.`;
  const files = (await client.listFiles(repository, revision, hint)).filter(
    (file) => !SKIPPED.test(file.path),
  );
  if (!files.some((file) => file.path === 'config.json')) {
    throw new ModelPullError(
      `${repository} has no config.json: it is not a Qwen3-TTS checkpoint.`,
      'manifest_invalid',
    );
  }
  const commit = await client.commitOf(repository, revision);
  const checkpointBytes = files.reduce((sum, file) => sum + file.size, 0);
  const checkpoint = path.resolve(
    config.MODEL_DIR,
    '.checkpoints',
    `${repository.replace('/', '--')}@${commit}`,
  );
  checkResources(config.MODEL_DIR, checkpointBytes, python.managed);

  // Download, resumable and checked.
  const downloaded: string[] = [];
  let doneBytes = 0;
  for (const [index, file] of files.entries()) {
    const destination = path.join(checkpoint, ...file.path.split('/'));
    const common = {
      file: file.path,
      fileIndex: index,
      fileCount: files.length,
      totalBytes: checkpointBytes,
    };
    options.onProgress?.({ phase: 'checking', ...common, bytes: doneBytes });
    if (await alreadyThere(destination, file, options.signal)) {
      doneBytes += file.size;
      continue;
    }
    await rm(destination, { force: true });
    await pullFile({
      client,
      url: client.resolveUrl(repository, commit, file.path),
      destination,
      sha256: file.sha256 ?? file.gitBlobSha1 ?? '',
      digest: file.sha256 ? 'sha256' : 'git-blob-sha1',
      expectedSize: file.size,
      attempts: options.attempts,
      retryDelayMs: options.retryDelayMs,
      signal: options.signal,
      displayName: file.path,
      notFoundHint: hint,
      onFileProgress: (bytes) =>
        options.onProgress?.({ phase: 'downloading', ...common, bytes: doneBytes + bytes }),
    });
    doneBytes += file.size;
    downloaded.push(file.path);
  }

  // Export into a staging directory beside the final one, then check it.
  const staging = `${directory}.export-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(path.dirname(staging), { recursive: true });
  try {
    report('export', `exporting ${repository} to our ONNX layout (${variants.join(', ')})`);
    const export_ = await runCommand(
      python.executable,
      [
        path.join(EXPORT_TOOLS, 'qwen3', 'export.py'),
        '--model',
        checkpoint,
        '--model-key',
        key,
        '--out',
        staging,
        '--dtypes',
        ...variants,
        '--device',
        gpu ? 'cuda' : 'cpu',
      ],
      { signal: options.signal, onLine: (line) => report('export', line) },
    );
    if (export_.code !== 0 || !existsSync(path.join(staging, 'manifest.json'))) {
      throw new ModelPullError(
        `exporting ${repository} failed (exit ${export_.code}); nothing was installed. Its last words:\n${export_.tail.join('\n')}`,
        'export_failed',
      );
    }
    report('parity', 'comparing the export with the official code on one sentence');
    const report_ = path.join(staging, 'parity.json');
    const parity = await runCommand(
      python.executable,
      [
        path.join(EXPORT_TOOLS, 'qwen3', 'parity.py'),
        '--model',
        checkpoint,
        '--onnx',
        staging,
        '--variant',
        variants.includes('float32') ? 'float32' : variants[0],
        '--text',
        PARITY_TEXT,
        '--language',
        'korean',
        '--max-new-tokens',
        '12',
        '--report',
        report_,
        '--device',
        gpu ? 'cuda' : 'cpu',
      ],
      { signal: options.signal, onLine: (line) => report('parity', line) },
    );
    const summary = await parityReport(report_);
    if (parity.code !== 0) {
      throw new ModelPullError(
        `the export of ${repository} does not compute what the official code computes, so it was not installed:\n` +
          `${summary || parity.tail.join('\n')}\nPlease report this with the output above.`,
        'parity_failed',
      );
    }
    report('install', `installing into ${directory}`);
    await writeAtomically(
      path.join(staging, PULL_RECORD_FILE),
      `${JSON.stringify(
        {
          endpoint: config.HF_ENDPOINT,
          repository,
          revision: commit,
          pulledAt: new Date().toISOString(),
          exported: { python: python.version, parity: summary },
          variants,
        },
        null,
        2,
      )}\n`,
    );
    await replaceDirectory(staging, directory);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  if (!options.keepCheckpoint) await rm(checkpoint, { recursive: true, force: true });
  const manifest = JSON.parse(await readFile(path.join(directory, 'manifest.json'), 'utf8')) as {
    files?: { sha256?: Record<string, string> };
  };
  return {
    key,
    directory,
    repository,
    revision: commit,
    variants,
    downloaded,
    files: Object.keys(manifest.files?.sha256 ?? {}),
    exportedFrom: {
      checkpoint: repository,
      revision: commit,
      python: python.executable,
      parity: await parityText(directory),
    },
  };
}

async function alreadyThere(destination: string, file: HubFile, signal?: AbortSignal): Promise<boolean> {
  const existing = await stat(destination).catch(() => undefined);
  if (!existing?.isFile() || existing.size !== file.size) return false;
  // Git-kept files are small: a size match is re-checked by a fresh download only when the sha256 is known.
  if (file.sha256) return (await sha256OfFile(destination, signal)) === file.sha256;
  return false;
}

/** Enough disk for the checkpoint, its export (about twice it in float32) and the environment; enough memory to load it. */
function checkResources(modelDirectory: string, checkpointBytes: number, managedPython: boolean): void {
  const neededDisk = checkpointBytes * 3 + (managedPython ? 0 : 0) + 1 * GIB;
  let free: number | undefined;
  try {
    const target = existsSync(modelDirectory) ? modelDirectory : path.dirname(path.resolve(modelDirectory));
    const stats = statfsSync(target);
    free = stats.bavail * stats.bsize;
  } catch {
    free = undefined;
  }
  if (free !== undefined && free < neededDisk) {
    throw new ModelPullError(
      `not enough disk in ${modelDirectory}: the checkpoint is ${(checkpointBytes / GIB).toFixed(1)} GiB and its export ` +
        `needs about ${(neededDisk / GIB).toFixed(1)} GiB free; ${(free / GIB).toFixed(1)} GiB are. Free some space or ` +
        'point MODEL_DIR at a larger disk.',
      'not_enough_disk',
    );
  }
  // The export loads the checkpoint in float32 (twice its bfloat16 size) and traces it.
  const neededMemory = checkpointBytes * 3;
  if (os.totalmem() < neededMemory) {
    throw new ModelPullError(
      `not enough memory: exporting a ${(checkpointBytes / GIB).toFixed(1)} GiB checkpoint needs about ` +
        `${(neededMemory / GIB).toFixed(1)} GiB of RAM and this machine has ${(os.totalmem() / GIB).toFixed(1)} GiB. ` +
        'Export on a larger machine and copy the result (MODEL_0_6B_BASE / MODEL_1_7B_BASE).',
      'not_enough_memory',
    );
  }
}

async function parityReport(file: string): Promise<string> {
  try {
    const stages = JSON.parse(await readFile(file, 'utf8')) as {
      stage: string;
      ok: boolean;
      detail: string;
    }[];
    return stages.map((stage) => `${stage.ok ? 'OK  ' : 'FAIL'} ${stage.stage}: ${stage.detail}`).join('\n');
  } catch {
    return '';
  }
}

async function parityText(directory: string): Promise<string> {
  try {
    const record = JSON.parse(await readFile(path.join(directory, PULL_RECORD_FILE), 'utf8')) as {
      exported?: { parity?: string };
    };
    return record.exported?.parity ?? '';
  } catch {
    return '';
  }
}

/** Moves a finished export into place; an older install is swapped out first and then removed. */
async function replaceDirectory(staging: string, directory: string): Promise<void> {
  const previous = `${directory}.previous-${process.pid}`;
  const hadOne = existsSync(directory);
  if (hadOne) await rename(directory, previous);
  try {
    await rename(staging, directory);
  } catch (error) {
    if (hadOne) await rename(previous, directory).catch(() => undefined);
    throw error;
  }
  if (hadOne) await rm(previous, { recursive: true, force: true });
}
