import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/** Names a cache writes through before renaming into place; anything left with it is a dead write. */
const PARTIAL = /\.partial$/;

/**
 * Cache files in one folder within a byte budget: writes are atomic (a temporary name renamed into
 * place, so a reader never sees half a file), the least recently used files go first when over
 * budget, and a write that fails (disk full, read-only) only means that the entry is not cached:
 * callers never fail because of the cache. Dead temporary files are removed at the first use.
 */
export class DiskCache {
  private swept: Promise<void> | undefined;
  private writesSinceSweep = 0;
  private warned = false;

  constructor(
    private readonly options: { directory: string; maxBytes: number; logger?: Logger; label: string },
  ) {}

  private file(name: string): string {
    if (name.includes('/') || name.includes('\\') || name.startsWith('.'))
      throw new Error(`cache entry name ${name} must be a plain file name`);
    return path.join(this.options.directory, name);
  }

  /** The entry, or undefined; reading marks it as recently used. */
  async read(name: string): Promise<Buffer | undefined> {
    await this.sweepOnce();
    const file = this.file(name);
    try {
      const bytes = await readFile(file);
      const now = new Date();
      await utimes(file, now, now).catch(() => {});
      return bytes;
    } catch {
      return undefined;
    }
  }

  /** Stores an entry; false when it could not be stored (the reason is logged once). */
  async write(name: string, data: Buffer | string): Promise<boolean> {
    await this.sweepOnce();
    const file = this.file(name);
    const partial = path.join(this.options.directory, `.${name}.${randomBytes(4).toString('hex')}.partial`);
    try {
      await mkdir(this.options.directory, { recursive: true });
      await writeFile(partial, data);
      await rename(partial, file);
    } catch (error) {
      await unlink(partial).catch(() => {});
      if (!this.warned)
        this.options.logger?.warn(
          { err: error },
          `the ${this.options.label} cache in ${this.options.directory} cannot be written; going on without it`,
        );
      this.warned = true;
      return false;
    }
    this.warned = false;
    // Evicting needs a directory listing: once every few writes is enough to stay near the budget.
    this.writesSinceSweep += 1;
    if (this.writesSinceSweep >= 16) await this.evict();
    return true;
  }

  async remove(name: string): Promise<void> {
    await unlink(this.file(name)).catch(() => {});
  }

  private sweepOnce(): Promise<void> {
    // At the first use every temporary file is a dead write of an earlier process.
    this.swept ??= this.evict(0);
    return this.swept;
  }

  /**
   * Removes dead temporary files (older than `partialAgeMs`: younger ones may be writes under way),
   * then the least recently used entries until within budget.
   */
  async evict(partialAgeMs = 60000): Promise<void> {
    this.writesSinceSweep = 0;
    let names: string[];
    try {
      names = await readdir(this.options.directory);
    } catch {
      return;
    }
    const entries: { file: string; size: number; usedAt: number }[] = [];
    for (const name of names) {
      const file = path.join(this.options.directory, name);
      const info = await stat(file).catch(() => undefined);
      if (PARTIAL.test(name)) {
        if (info && Date.now() - info.mtimeMs >= partialAgeMs) await unlink(file).catch(() => {});
        continue;
      }
      if (info?.isFile()) entries.push({ file, size: info.size, usedAt: info.mtimeMs });
    }
    let total = entries.reduce((sum, entry) => sum + entry.size, 0);
    entries.sort((a, b) => a.usedAt - b.usedAt);
    for (const entry of entries) {
      if (total <= this.options.maxBytes) break;
      await unlink(entry.file).catch(() => {});
      total -= entry.size;
    }
  }
}
