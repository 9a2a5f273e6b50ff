import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { VERIFIED_FILE } from './verify-model-files.ts';

/**
 * What identifies the weights a model directory holds now. Voice prompts and renders are cached under
 * it, so that a model replaced in place (a synthetic one by the real one, a re-export) never reuses
 * what the old weights computed.
 *
 * A manifest that lists every file's sha256 identifies the content by itself (the engines verify the
 * files against it before use), so it and the variant in use are the fingerprint: installing another
 * variant beside it, or the verification record written at load, changes nothing. A hand-made manifest
 * without hashes falls back to every file's size and modification time.
 */
export async function modelFingerprint(directory: string, variant: string): Promise<string> {
  const hash = createHash('sha256');
  const manifest = await readFile(path.join(directory, 'manifest.json'));
  hash.update(manifest);
  hash.update(`\u0000${variant}`);
  if (listsFileHashes(manifest)) return hash.digest('hex');
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && entry.name !== VERIFIED_FILE)
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
  for (const file of files) {
    const info = await stat(file);
    hash.update(`\u0000${path.relative(directory, file)}\u0000${info.size}\u0000${info.mtimeMs}`);
  }
  return hash.digest('hex');
}

function listsFileHashes(manifest: Buffer): boolean {
  try {
    const json = JSON.parse(manifest.toString('utf8')) as { files?: { sha256?: unknown } };
    return typeof json.files?.sha256 === 'object' && json.files.sha256 !== null;
  } catch {
    return false;
  }
}
