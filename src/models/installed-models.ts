import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config, ConfigName } from '../config.ts';
import {
  INSTALLABLE_MODEL_KEYS,
  MODEL_REGISTRY,
  modelLocation,
  type InstallableModelKey,
  type ModelVariant,
} from './model-registry.ts';
import { PULL_RECORD_FILE, type PullRecord } from './pull.ts';
import { filesForVariants, ManifestError, manifestVariants, parsePullManifest } from './pull-manifest.ts';

export type ModelSource =
  | { kind: 'hub'; repository: string; revision: string; endpoint: string }
  | { kind: 'export'; repository?: string; revision?: string }
  | { kind: 'synthetic' };

export interface InstalledModel {
  key: InstallableModelKey;
  directory: string;
  /** `variable`: an explicit variable names the directory; `model-dir`: MODEL_DIR/<key>. */
  origin: 'variable' | 'model-dir';
  variable: ConfigName;
  exists: boolean;
  /** `valid`: manifest.json parses and has this model's format and key. */
  manifest: 'valid' | 'missing' | 'invalid';
  /** Why the manifest is invalid, when it is. */
  problem?: string;
  /** Variants whose every file is present (presence only; `models pull` checks the hashes). */
  variants: ModelVariant[];
  source?: ModelSource;
  /** Bytes of everything in the directory. */
  sizeBytes: number;
}

/** What is installed for each model key: location, manifest state, variants, source and size. */
export async function listInstalledModels(config: Config): Promise<InstalledModel[]> {
  return Promise.all(INSTALLABLE_MODEL_KEYS.map((key) => inspectModel(config, key)));
}

export async function inspectModel(config: Config, key: InstallableModelKey): Promise<InstalledModel> {
  const location = modelLocation(config, key);
  const model: InstalledModel = {
    key,
    directory: location.directory,
    origin: location.origin,
    variable: location.variable,
    exists: false,
    manifest: 'missing',
    variants: [],
    sizeBytes: 0,
  };
  const directoryStat = await stat(location.directory).catch(() => undefined);
  if (!directoryStat?.isDirectory()) return model;
  model.exists = true;
  model.sizeBytes = await directorySize(location.directory);

  const manifestText = await readFile(path.join(location.directory, 'manifest.json'), 'utf8').catch(
    () => undefined,
  );
  if (manifestText === undefined) return model;
  try {
    const manifest = parsePullManifest(manifestText, 'manifest.json');
    const expected = MODEL_REGISTRY[key].manifestFormat;
    if (manifest.format !== expected)
      throw new ManifestError(`format is "${manifest.format}", expected "${expected}"`);
    if (manifest.modelKey !== undefined && manifest.modelKey !== key) {
      throw new ManifestError(`it describes ${manifest.modelKey}, not ${key}`);
    }
    model.manifest = 'valid';
    for (const variant of manifestVariants(manifest)) {
      const files = filesForVariants(manifest, [variant]);
      const present = await Promise.all(
        files.map((file) => isFile(path.join(location.directory, ...file.split('/')))),
      );
      if (present.every(Boolean)) model.variants.push(variant);
    }
    model.source = await readSource(location.directory, manifest.source);
  } catch (error) {
    model.manifest = 'invalid';
    model.problem = (error as Error).message;
  }
  return model;
}

async function readSource(
  directory: string,
  source: { repository?: string; revision?: string; synthetic?: boolean } | undefined,
): Promise<ModelSource> {
  const recordText = await readFile(path.join(directory, PULL_RECORD_FILE), 'utf8').catch(() => undefined);
  if (source?.synthetic === true) return { kind: 'synthetic' };
  if (recordText !== undefined) {
    try {
      const record = JSON.parse(recordText) as Partial<PullRecord>;
      if (typeof record.repository === 'string') {
        return {
          kind: 'hub',
          repository: record.repository,
          revision: String(record.revision ?? 'main'),
          endpoint: String(record.endpoint ?? ''),
        };
      }
    } catch {
      // A damaged pull record only loses the hub name; the manifest still says what the model is.
    }
  }
  return { kind: 'export', repository: source?.repository, revision: source?.revision };
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}

async function directorySize(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}
