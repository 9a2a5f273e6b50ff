import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { sha256OfFile } from './pull-file.ts';
import { PULL_RECORD_FILE } from './pull.ts';
import { VERIFIED_FILE } from './verify-model-files.ts';

/** sha256 of every file under a model directory (relative paths with '/'), except manifest.json itself. */
export async function hashModelFiles(directory: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(path.join(directory, relative), { withFileTypes: true })) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(child);
      else if (
        entry.isFile() &&
        child !== 'manifest.json' &&
        child !== PULL_RECORD_FILE &&
        child !== VERIFIED_FILE
      ) {
        hashes[child] = await sha256OfFile(path.join(directory, child));
      }
    }
  };
  await walk('');
  return Object.fromEntries(Object.entries(hashes).sort(([a], [b]) => a.localeCompare(b)));
}
