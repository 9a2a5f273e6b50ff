import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * What identifies the weights a model directory holds now: its manifest, the variant in use, and
 * every file's size and modification time. Voice prompts are cached under it, so that a model
 * replaced in place (a synthetic one by the real one, a re-export) never reuses the voices the old
 * weights computed: their speaker embeddings and reference codes mean nothing to the new ones.
 */
export async function modelFingerprint(directory: string, variant: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(path.join(directory, 'manifest.json')));
  hash.update(`\u0000${variant}`);
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
  for (const file of files) {
    const info = await stat(file);
    hash.update(`\u0000${path.relative(directory, file)}\u0000${info.size}\u0000${info.mtimeMs}`);
  }
  return hash.digest('hex');
}
