import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PeriodicSweep, removeExpiredEntries } from './periodic-sweep.ts';
import { isRandomId } from './random-id.ts';

/** The files an engine writes into a stream folder, and the type each is served with. */
const STREAM_FILES: { pattern: RegExp; type: string }[] = [
  { pattern: /^index\.m3u8$/, type: 'application/vnd.apple.mpegurl' },
  { pattern: /^init\.mp4$/, type: 'video/mp4' },
  { pattern: /^segment-\d{5,9}\.m4s$/, type: 'video/iso.segment' },
];

/** A folder made for one render's live stream, and the address its playlist will have. */
export interface StreamFolder {
  id: string;
  directory: string;
  /** Where a client fetches the playlist once the engine reports it playable. */
  playlistUrl: string;
}

/**
 * Live HLS streams of videos being rendered (VIDEO_OUTPUT_DIR/streams/<uuid>/), so that a client can
 * watch a video while it renders. Each folder is served until `keepSeconds` after its last file was
 * written (the finished MP4 is kept as long), then removed by the sweep.
 */
export class VideoStreams {
  private readonly directory: string;
  private readonly sweeper: PeriodicSweep;

  constructor(private readonly options: { directory: string; keepSeconds: number }) {
    this.directory = path.resolve(options.directory);
    this.sweeper = new PeriodicSweep(() => this.removeExpired(), options.keepSeconds);
  }

  /** Makes an empty folder for one render's stream (expired ones go with the periodic sweep). */
  async create(playlist = 'index.m3u8'): Promise<StreamFolder> {
    const id = randomUUID();
    const directory = path.join(this.directory, id);
    await mkdir(directory, { recursive: true });
    return { id, directory, playlistUrl: `/video/streams/${id}/${playlist}` };
  }

  /** Removes a stream at once (its render failed, or never made one). */
  async remove(id: string): Promise<void> {
    if (isRandomId(id)) await rm(path.join(this.directory, id), { recursive: true, force: true });
  }

  /**
   * The file to serve and its content type, or undefined when the stream or file name is not one this
   * store makes (no other name, `..` or separator ever reaches the file system), does not exist, or
   * has expired.
   */
  find(id: string, file: string, now = Date.now()): { path: string; type: string } | undefined {
    if (!isRandomId(id)) return undefined;
    const type = STREAM_FILES.find(({ pattern }) => pattern.test(file))?.type;
    if (!type) return undefined;
    const folder = path.join(this.directory, id);
    if (this.expired(folder, now)) return undefined;
    const full = path.join(folder, file);
    return statSync(full, { throwIfNoEntry: false })?.isFile() ? { path: full, type } : undefined;
  }

  /** A folder's last change (a file added or the playlist replaced) is older than keepSeconds. */
  private expired(folder: string, now: number): boolean {
    const changed = statSync(folder, { throwIfNoEntry: false })?.mtimeMs;
    return changed === undefined || now - changed > this.options.keepSeconds * 1000;
  }

  /** Removes expired streams every so often, as VideoStore does for the MP4s. */
  startSweeping(): void {
    this.sweeper.start();
  }

  close(): void {
    this.sweeper.stop();
  }

  async removeExpired(now = Date.now()): Promise<number> {
    const keepMs = this.options.keepSeconds * 1000;
    return removeExpiredEntries(this.directory, (name) => (isRandomId(name) ? keepMs : undefined), now);
  }
}
