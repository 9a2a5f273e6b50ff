import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import { HubClient, type HubResponse } from './hub.ts';
import {
  MODEL_REGISTRY,
  MODEL_VARIANTS,
  modelLocation,
  modelRegistryEntry,
  modelRepository,
  type InstallableModelKey,
  type ModelVariant,
} from './model-registry.ts';
import { ModelPullError } from './pull-errors.ts';
import { pullFile, sha256OfFile } from './pull-file.ts';
import {
  filesForVariants,
  ManifestError,
  manifestVariants,
  parsePullManifest,
  type PullManifest,
} from './pull-manifest.ts';

/** Written next to manifest.json by a pull: where the files came from (read by `models list`). */
export const PULL_RECORD_FILE = 'pull.json';

export interface PullRecord {
  endpoint: string;
  repository: string;
  revision: string;
  pulledAt: string;
  /** sha256 of the manifest.json these variants were checked against. */
  manifestSha256: string;
  variants: ModelVariant[];
}

export interface PullProgress {
  phase: 'manifest' | 'checking' | 'downloading' | 'done' | 'environment' | 'export' | 'parity' | 'install';
  /** For the phases that run the Python exporter: what it said last. */
  message?: string;
  /** Path inside the model directory of the file being checked or downloaded. */
  file?: string;
  fileIndex: number;
  fileCount: number;
  /** Bytes of the selected files already on disk, this file's partial bytes included. */
  bytes: number;
  /** Sum of the selected files' sizes, when the hub lists sizes. */
  totalBytes?: number;
}

export interface PullModelOptions {
  config: Config;
  /** Precision variant(s) to install; default TTS_DTYPE. 'all': every variant the repository has. */
  dtype?: ModelVariant | 'all';
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
  fetch?: typeof globalThis.fetch;
  /** How long to wait for the hub's response headers (default 10 s). */
  connectTimeoutMs?: number;
  /** How long a download may go without data before it is resumed (default 60 s). */
  stallTimeoutMs?: number;
  /** Attempts per file (default 5). */
  attempts?: number;
  retryDelayMs?: number;
  /** Official-checkpoint exports: a CUDA PyTorch and export device (float16 needs it). */
  gpu?: boolean;
  /** Official-checkpoint exports: keep the downloaded checkpoint under MODEL_DIR/.checkpoints. */
  keepCheckpoint?: boolean;
}

export interface PullResult {
  key: InstallableModelKey;
  directory: string;
  repository: string;
  revision: string;
  variants: ModelVariant[];
  /** Files fetched in this run (the rest were already present and matched their sha256). */
  downloaded: string[];
  files: string[];
  /** Set when the model was exported here from the official checkpoint. */
  exportedFrom?: { checkpoint: string; revision: string; python: string; parity: string };
}

const MAX_MANIFEST_BYTES = 16 << 20;

/**
 * Installs `key` into MODEL_DIR/<key>: from a hub repository holding our exported layout when its
 * MODEL_REPO_* variable names one, else by exporting the official checkpoint on this machine
 * (official-install.ts).
 */
export async function pullModel(key: string, options: PullModelOptions): Promise<PullResult> {
  const { config } = options;
  const entry = modelRegistryEntry(key);
  const location = modelLocation(config, entry.key);
  if (location.origin === 'variable') {
    throw new ModelPullError(
      `${location.variable} is set to ${location.directory}: that directory is used as it is and models pull never ` +
        `writes into it. Unset ${location.variable} to install into MODEL_DIR/${entry.key} instead.`,
      'directory_is_explicit',
    );
  }
  const repository = modelRepository(config, entry.key);
  if (repository) return pullExportedLayout(entry.key, repository, location.directory, options);
  if (entry.officialCheckpoint) {
    const { installFromOfficialCheckpoint } = await import('./official-install.ts');
    return installFromOfficialCheckpoint(entry.key, entry.officialCheckpoint, location.directory, options);
  }
  throw new ModelPullError(
    `${entry.key} cannot be exported automatically: its face-parser weights are not on the hub (MuseTalk's ` +
      'download_weights.sh fetches them from Google Drive) and its code is not a pip package. Fetch MuseTalk and its ' +
      'weights, export with tools/export/musetalk/export.py (docs/export.md), then set MUSETALK_MODEL_DIR to the ' +
      `export, or upload it and set ${entry.repositoryVariable}=owner/name.`,
    'repository_not_set',
  );
}

/**
 * Our exported layout from a hub repository: manifest.json first, then every file of the chosen
 * variants, each resumable and checked against the manifest's sha256, and manifest.json last, so a
 * directory with a manifest is complete.
 */
async function pullExportedLayout(
  key: InstallableModelKey,
  { repository, revision }: { repository: string; revision: string },
  directory: string,
  options: PullModelOptions,
): Promise<PullResult> {
  const { config } = options;
  const entry = modelRegistryEntry(key);
  const requested = options.dtype ?? config.TTS_DTYPE;
  // 'all' means every variant the repository has; it is known once its manifest is read.
  let variants = requested === 'all' ? [] : chooseVariants(requested, key);
  const client = hubClientFor(
    options,
    `. Check the network, set HF_ENDPOINT to a reachable hub or mirror, or copy an exported model into a ` +
      `directory and set ${entry.directoryVariable} to it.`,
  );
  const notFoundHint =
    `Is ${entry.repositoryVariable}=${repository}${revision === 'main' ? '' : `@${revision}`} the repository your ` +
    `export was uploaded to? A private repository also answers 404 without HF_TOKEN.`;

  const report = (progress: Omit<PullProgress, 'fileCount'> & { fileCount?: number }) =>
    options.onProgress?.({ fileCount: 0, ...progress });
  report({ phase: 'manifest', fileIndex: 0, bytes: 0 });
  const manifestUrl = client.resolveUrl(repository, revision, 'manifest.json');
  const manifestText = await readSmallBody(client, manifestUrl, notFoundHint);
  const manifest = checkManifest(manifestText, manifestUrl, entry.key);
  if (requested === 'all') variants = manifestVariants(manifest);
  const missing = variants.filter((variant) => !manifestVariants(manifest).includes(variant));
  if (missing.length > 0) {
    throw new ModelPullError(
      `${repository} has no ${missing.join(', ')} variant (it has ${manifestVariants(manifest).join(', ') || 'none'}); ` +
        'choose one of those with --dtype.',
      'variant_missing',
    );
  }

  const sizes = await client.fileSizes(repository, revision).catch(() => undefined);
  const files = filesForVariants(manifest, variants);
  const totalBytes =
    sizes && files.every((file) => sizes.has(file))
      ? files.reduce((sum, file) => sum + (sizes.get(file) ?? 0), 0)
      : undefined;
  await mkdir(directory, { recursive: true });
  const manifestSha256 = createHash('sha256').update(manifestText).digest('hex');
  const previous = await readInstalledState(directory);
  await removeStaleFiles(directory, previous.manifest, manifest, files);

  const downloaded: string[] = [];
  let doneBytes = 0;
  for (const [index, file] of files.entries()) {
    const destination = path.join(directory, ...file.split('/'));
    const sha256 = manifest.files.sha256[file];
    const common = { file, fileIndex: index, fileCount: files.length, totalBytes };
    report({ phase: 'checking', ...common, bytes: doneBytes });
    const existing = await stat(destination).catch(() => undefined);
    if (existing?.isFile() && (sizes?.get(file) ?? existing.size) === existing.size) {
      if ((await sha256OfFile(destination, options.signal)) === sha256) {
        doneBytes += existing.size;
        continue;
      }
    }
    if (existing) await unlink(destination);
    await pullFile({
      client,
      url: client.resolveUrl(repository, revision, file),
      destination,
      sha256,
      expectedSize: sizes?.get(file),
      attempts: options.attempts,
      retryDelayMs: options.retryDelayMs,
      signal: options.signal,
      displayName: file,
      notFoundHint,
      onFileProgress: (bytes) => report({ phase: 'downloading', ...common, bytes: doneBytes + bytes }),
    });
    doneBytes += (await stat(destination)).size;
    downloaded.push(file);
  }

  // Variants checked earlier against the same manifest stay installed alongside the new ones.
  const keptVariants = previous.record?.manifestSha256 === manifestSha256 ? previous.record.variants : [];
  const record: PullRecord = {
    endpoint: config.HF_ENDPOINT,
    repository,
    revision,
    pulledAt: new Date().toISOString(),
    manifestSha256,
    variants: MODEL_VARIANTS.filter(
      (variant) => variants.includes(variant) || keptVariants.includes(variant),
    ),
  };
  await writeAtomically(path.join(directory, PULL_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
  await writeAtomically(path.join(directory, 'manifest.json'), manifestText);
  report({ phase: 'done', fileIndex: files.length, fileCount: files.length, bytes: doneBytes, totalBytes });
  return { key: entry.key, directory, repository, revision, variants, downloaded, files };
}

/** The hub as a pull's options and the configuration describe it; `unreachableHint` ends its network errors. */
export function hubClientFor(options: PullModelOptions, unreachableHint: string): HubClient {
  return new HubClient({
    endpoint: options.config.HF_ENDPOINT,
    token: options.config.HF_TOKEN,
    fetch: options.fetch,
    connectTimeoutMs: options.connectTimeoutMs,
    stallTimeoutMs: options.stallTimeoutMs,
    signal: options.signal,
    unreachableHint,
  });
}

/**
 * The variants a pull installs for --dtype (or TTS_DTYPE). MuseTalk has no quantized variants and its
 * engine runs float32 under TTS_DTYPE=int8 / int4, so those install its float32 variant.
 */
export function chooseVariants(dtype: string, key?: InstallableModelKey): ModelVariant[] {
  if (key === 'musetalk' && (dtype === 'int4' || dtype === 'int8')) return ['float32'];
  if (dtype === 'all') return [...MODEL_VARIANTS];
  if ((MODEL_VARIANTS as readonly string[]).includes(dtype)) return [dtype as ModelVariant];
  throw new ModelPullError(
    `there is no ${dtype} variant of our ONNX models: choose float32 (CPU), float16 (GPU), int8 or int4 ` +
      '(quantized, CPU or GPU) with --dtype, or set TTS_DTYPE to one of them.',
    'variant_missing',
  );
}

function checkManifest(text: string, origin: string, key: InstallableModelKey): PullManifest {
  let manifest: PullManifest;
  try {
    manifest = parsePullManifest(text, origin);
  } catch (error) {
    if (error instanceof ManifestError) throw new ModelPullError(error.message, 'manifest_invalid');
    throw error;
  }
  const expected = MODEL_REGISTRY[key].manifestFormat;
  if (manifest.format !== expected) {
    throw new ModelPullError(
      `${origin} has format "${manifest.format}", expected "${expected}" for ${key}.`,
      'manifest_invalid',
    );
  }
  if (manifest.modelKey !== undefined && manifest.modelKey !== key) {
    throw new ModelPullError(
      `${origin} describes ${manifest.modelKey}, not ${key}: check ${MODEL_REGISTRY[key].repositoryVariable}.`,
      'manifest_invalid',
    );
  }
  return manifest;
}

async function readSmallBody(client: HubClient, url: string, notFoundHint: string): Promise<string> {
  const hubResponse: HubResponse = await client.get(url);
  if (!hubResponse.response.ok)
    throw await client.failure(url, hubResponse, 'cannot read the model manifest', notFoundHint);
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of hubResponse.chunks()) {
    length += chunk.byteLength;
    if (length > MAX_MANIFEST_BYTES) {
      throw new ModelPullError(
        `${url} is larger than ${MAX_MANIFEST_BYTES} bytes: not a manifest.`,
        'manifest_invalid',
      );
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

async function readInstalledState(
  directory: string,
): Promise<{ manifest?: PullManifest; record?: PullRecord }> {
  const manifestText = await readFile(path.join(directory, 'manifest.json'), 'utf8').catch(() => undefined);
  const recordText = await readFile(path.join(directory, PULL_RECORD_FILE), 'utf8').catch(() => undefined);
  let manifest: PullManifest | undefined;
  let record: PullRecord | undefined;
  try {
    if (manifestText !== undefined) manifest = parsePullManifest(manifestText, 'manifest.json');
  } catch {
    manifest = undefined;
  }
  try {
    if (recordText !== undefined) record = JSON.parse(recordText) as PullRecord;
  } catch {
    record = undefined;
  }
  return { manifest, record };
}

/**
 * Files of other variants whose sha256 changed between the installed and the new manifest no
 * longer match it; delete them so the directory never mixes two exports.
 */
async function removeStaleFiles(
  directory: string,
  previous: PullManifest | undefined,
  next: PullManifest,
  selected: readonly string[],
): Promise<void> {
  if (previous === undefined) return;
  for (const [file, sha256] of Object.entries(previous.files.sha256)) {
    if (selected.includes(file) || next.files.sha256[file] === sha256) continue;
    await unlink(path.join(directory, ...file.split('/'))).catch(() => undefined);
  }
}

export async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.part`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}
