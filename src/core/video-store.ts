import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, rename, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ServerError } from '../errors.ts';
import type { RenderedVideo } from './video-service.ts';
import { PeriodicSweep, removeExpiredEntries } from './periodic-sweep.ts';
import { RANDOM_ID } from './random-id.ts';

/** A rendered video once kept: where to download it and what the rendering reported. */
export interface KeptVideo {
  video_url: string;
  expires_in: number;
  bytes: number;
  avatar_used: string;
  notices: string[];
  reference_warnings: string[];
  /** Request settings the engine could not honour. */
  ignored: string[];
  /** Present only when the video does not speak with the cloned voice and that was allowed: why. */
  voice_fallback?: string;
  elapsed: { tts: number; total: number };
  /** Present (true) when the video is a stored render of an identical earlier request. */
  from_cache?: boolean;
}

/**
 * Somewhere every server reads (Redis, with REDIS_URL): each kept video is copied there, so that a
 * server that did not render it can still serve it.
 */
export interface SharedVideoFiles {
  put(name: string, mp4: Buffer, keepSeconds: number): Promise<void>;
  /** The video and how long it has left (ms), or undefined when it is unknown or has expired. */
  get(name: string): Promise<{ mp4: Buffer; expiresInMs: number } | undefined>;
}

/** Names this store gives its files; anything else in the folder is never served or deleted. */
const STORED_NAME = new RegExp(`^${RANDOM_ID}\\.mp4$`);
const PARTIAL_NAME = new RegExp(`^\\.${RANDOM_ID}\\.mp4\\.partial$`);

/**
 * Rendered videos kept for a while so that a client told about one over SSE can download it.
 * Files get unguessable names and are removed `keepSeconds` after they were written.
 */
export class VideoStore {
  private readonly directory: string;
  private readonly sweeper: PeriodicSweep;

  constructor(
    private readonly options: { directory: string; keepSeconds: number; shared?: SharedVideoFiles },
  ) {
    this.directory = path.resolve(options.directory);
    this.sweeper = new PeriodicSweep(() => this.removeExpired(), options.keepSeconds);
  }

  get keepSeconds(): number {
    return this.options.keepSeconds;
  }

  /**
   * Writes the MP4 (through a temporary name, so a reader never sees half a file); returns its name.
   * A write that fails (disk full) leaves nothing behind and says where space is missing.
   */
  async save(mp4: Buffer): Promise<string> {
    await this.removeExpired();
    const name = `${randomUUID()}.mp4`;
    const partial = path.join(this.directory, `.${name}.partial`);
    try {
      await mkdir(this.directory, { recursive: true });
      await writeFile(partial, mp4);
      await rename(partial, path.join(this.directory, name));
    } catch (error) {
      await unlink(partial).catch(() => {});
      throw new ServerError(
        `the video was rendered but could not be stored for download (${(error as NodeJS.ErrnoException).code ?? 'write failed'}): ` +
          'free space in VIDEO_OUTPUT_DIR, or use /video/generate, which answers the MP4 directly',
        { code: 'storage_failed', statusCode: 507, expose: true, cause: error },
      );
    }
    return name;
  }

  /** Removes expired videos every so often, so they do not wait for the next render to go. */
  startSweeping(): void {
    this.sweeper.start();
  }

  close(): void {
    this.sweeper.stop();
  }

  /** Saves a rendered video and describes it for the client (the SSE `done` event, a job's state). */
  async keep(video: RenderedVideo): Promise<KeptVideo> {
    const name = await this.save(video.mp4);
    await this.share(name, video.mp4);
    return {
      video_url: `/video/files/${name}`,
      expires_in: this.options.keepSeconds,
      bytes: video.mp4.length,
      avatar_used: video.avatarUsed,
      notices: video.notices,
      reference_warnings: video.referenceWarnings,
      ignored: video.ignored,
      ...(video.voiceFallback ? { voice_fallback: video.voiceFallback } : {}),
      elapsed: { tts: video.ttsSeconds, total: video.totalSeconds },
      ...(video.fromCache ? { from_cache: true } : {}),
    };
  }

  /** Copies a kept video where the other servers find it (with a shared store). */
  private async share(name: string, mp4: Buffer): Promise<void> {
    try {
      await this.options.shared?.put(name, mp4, this.options.keepSeconds);
    } catch (error) {
      throw new ServerError(
        'the video was rendered but could not be shared with the other servers (Redis at REDIS_URL): ' +
          'check that Redis runs and has memory to spare, then render it again',
        { code: 'storage_failed', statusCode: 503, expose: true, cause: error },
      );
    }
  }

  /**
   * The folder and name to serve: a video kept here, or one another server rendered, copied from the
   * shared store into this one's folder first. Undefined when the name is not one of ours, or the
   * video has expired or is nowhere.
   */
  async locate(name: string): Promise<{ root: string; name: string } | undefined> {
    const here = this.find(name);
    if (here || !STORED_NAME.test(name) || !this.options.shared) return here;
    let shared: Awaited<ReturnType<SharedVideoFiles['get']>>;
    try {
      shared = await this.options.shared.get(name);
    } catch (error) {
      throw new ServerError(
        'this video may have been rendered by another server, but the shared store (Redis at ' +
          'REDIS_URL) cannot be reached now: try again in a moment',
        { code: 'storage_unavailable', statusCode: 503, expose: true, isRetryable: true, cause: error },
      );
    }
    if (!shared) return undefined;
    const file = path.join(this.directory, name);
    const partial = path.join(this.directory, `.${name}.partial`);
    try {
      await mkdir(this.directory, { recursive: true });
      await writeFile(partial, shared.mp4);
      // Dated as when it was kept, so that it expires here when it does everywhere.
      const written = new Date(Date.now() - (this.options.keepSeconds * 1000 - shared.expiresInMs));
      await utimes(partial, written, written);
      await rename(partial, file);
    } catch {
      // Another request fetching the same video at once may have won the rename.
      await unlink(partial).catch(() => {});
    }
    return this.find(name);
  }

  /** The folder and name to serve, or undefined when the name is not one of ours or has expired. */
  find(name: string, now = Date.now()): { root: string; name: string } | undefined {
    if (!STORED_NAME.test(name)) return undefined;
    const written = statSync(path.join(this.directory, name), { throwIfNoEntry: false })?.mtimeMs;
    if (written === undefined || now - written > this.options.keepSeconds * 1000) return undefined;
    return { root: this.directory, name };
  }

  async removeExpired(now = Date.now()): Promise<number> {
    // A temporary file older than a minute is a write that died (a crash, a full disk).
    return removeExpiredEntries(
      this.directory,
      (name) =>
        PARTIAL_NAME.test(name)
          ? 60000
          : STORED_NAME.test(name)
            ? this.options.keepSeconds * 1000
            : undefined,
      now,
    );
  }
}
