import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelVariant } from './model-registry.ts';
import { sha256OfFile } from './pull-file.ts';
import { filesForVariants, manifestVariants, parsePullManifest } from './pull-manifest.ts';

/** Where the verified state of a model directory is remembered, so a restart need not hash again. */
export const VERIFIED_FILE = '.verified.json';

interface VerifiedEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

export class ModelFileError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/**
 * Checks that each file holds what the manifest says (its sha256). A file whose size and mtime are
 * those it had when last verified is not read again; everything else is hashed. Returns the files
 * that were hashed. A missing or different file is a ModelFileError that names it.
 */
export async function verifyModelFiles(
  directory: string,
  expected: Record<string, string>,
  files: readonly string[] = Object.keys(expected),
): Promise<{ hashed: string[] }> {
  const record = path.join(directory, VERIFIED_FILE);
  const verified: Record<string, VerifiedEntry> = await readFile(record, 'utf8')
    .then((text) => JSON.parse(text) as Record<string, VerifiedEntry>)
    .catch(() => ({}));
  const hashed: string[] = [];
  let changed = false;
  for (const file of files) {
    const location = path.join(directory, ...file.split('/'));
    const info = await stat(location).catch(() => undefined);
    if (!info?.isFile())
      throw new ModelFileError(`${file} is missing from the model directory ${directory}`, file);
    const known = verified[file];
    if (known?.size === info.size && known.mtimeMs === info.mtimeMs && known.sha256 === expected[file])
      continue;
    const sha256 = await sha256OfFile(location);
    hashed.push(file);
    if (sha256 !== expected[file]) {
      delete verified[file];
      await writeFile(record, JSON.stringify(verified)).catch(() => {});
      throw new ModelFileError(
        `${file} in ${directory} is damaged or incomplete: its sha256 is ${sha256.slice(0, 12)}…, the manifest ` +
          `says ${expected[file].slice(0, 12)}… (${info.size} bytes on disk)`,
        file,
      );
    }
    verified[file] = { size: info.size, mtimeMs: info.mtimeMs, sha256 };
    changed = true;
  }
  // A read-only model directory is fine: it is then hashed at every start.
  if (changed) await writeFile(record, JSON.stringify(verified, null, 1)).catch(() => {});
  return { hashed };
}

/**
 * Verifies the files an installed model needs for one variant against its manifest.json. A manifest
 * without hashes (made by hand) is trusted as it is.
 */
export async function verifyInstalledModel(
  directory: string,
  variant: ModelVariant,
): Promise<{ hashed: string[] }> {
  const text = await readFile(path.join(directory, 'manifest.json'), 'utf8');
  const json = JSON.parse(text) as { files?: { sha256?: unknown } };
  if (typeof json.files?.sha256 !== 'object' || json.files.sha256 === null) return { hashed: [] };
  const manifest = parsePullManifest(text, path.join(directory, 'manifest.json'));
  const variants = manifestVariants(manifest);
  const files = filesForVariants(manifest, variants.includes(variant) ? [variant] : variants.slice(0, 1));
  return verifyModelFiles(directory, manifest.files.sha256, files);
}
