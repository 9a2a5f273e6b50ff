import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Every directory made by this test process: removed when it exits, however its tests ended. */
const made: string[] = [];
process.once('exit', () => {
  for (const directory of made) rmSync(directory, { recursive: true, force: true });
});

/**
 * A fresh directory under the system's temporary folder, removed when the test process exits (each
 * test file runs in a process of its own). Tests that remove theirs earlier may still do so.
 */
export function temporaryDirectory(prefix: string): string {
  const directory = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(directory);
  return directory;
}
