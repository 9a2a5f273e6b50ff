import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Runs a sweep of expired files at once and then every so often (every `keepSeconds`, at most once a
 * minute), so that they do not wait for the next write to go; it never keeps the process alive.
 */
export class PeriodicSweep {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sweep: () => Promise<unknown>,
    private readonly keepSeconds: number,
  ) {}

  start(): void {
    if (this.timer) return;
    const everyMs = Math.min(60, Math.max(1, this.keepSeconds)) * 1000;
    this.timer = setInterval(() => void this.sweep(), everyMs);
    this.timer.unref();
    void this.sweep();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * Removes the files and folders directly in `directory` that are older (by modification time) than
 * their age limit; `ageLimitMs` returns undefined for names that are not the sweeper's to remove.
 * Returns how many were removed. A missing directory has nothing to remove.
 */
export async function removeExpiredEntries(
  directory: string,
  ageLimitMs: (name: string) => number | undefined,
  now = Date.now(),
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const limit = ageLimitMs(name);
    if (limit === undefined) continue;
    const entry = path.join(directory, name);
    try {
      if (now - (await stat(entry)).mtimeMs > limit) {
        await rm(entry, { recursive: true, force: true });
        removed += 1;
      }
    } catch {
      // Removed by a concurrent sweep: nothing to do.
    }
  }
  return removed;
}
