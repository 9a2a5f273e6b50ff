import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RenderedVideo } from './video-service.ts';

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
}

/** Names this store gives its files; anything else in the folder is never served or deleted. */
const STORED_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.mp4$/;

/**
 * Rendered videos kept for a while so that a client told about one over SSE can download it.
 * Files get unguessable names and are removed `keepSeconds` after they were written.
 */
export class VideoStore {
  private readonly directory: string;

  constructor(private readonly options: { directory: string; keepSeconds: number }) {
    this.directory = path.resolve(options.directory);
  }

  get keepSeconds(): number {
    return this.options.keepSeconds;
  }

  /** Writes the MP4 (through a temporary name, so a reader never sees half a file); returns its name. */
  async save(mp4: Buffer): Promise<string> {
    await mkdir(this.directory, { recursive: true });
    await this.removeExpired();
    const name = `${randomUUID()}.mp4`;
    const partial = path.join(this.directory, `.${name}.partial`);
    await writeFile(partial, mp4);
    await rename(partial, path.join(this.directory, name));
    return name;
  }

  /** Saves a rendered video and describes it for the client (the SSE `done` event, a job's state). */
  async keep(video: RenderedVideo): Promise<KeptVideo> {
    const name = await this.save(video.mp4);
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
    };
  }

  /** The folder and name to serve, or undefined when the name is not one of ours or has expired. */
  find(name: string, now = Date.now()): { root: string; name: string } | undefined {
    if (!STORED_NAME.test(name)) return undefined;
    const written = statSync(path.join(this.directory, name), { throwIfNoEntry: false })?.mtimeMs;
    if (written === undefined || now - written > this.options.keepSeconds * 1000) return undefined;
    return { root: this.directory, name };
  }

  async removeExpired(now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names.filter((candidate) => STORED_NAME.test(candidate))) {
      const file = path.join(this.directory, name);
      try {
        if (now - (await stat(file)).mtimeMs > this.options.keepSeconds * 1000) {
          await unlink(file);
          removed += 1;
        }
      } catch {
        // Removed by a concurrent sweep: nothing to do.
      }
    }
    return removed;
  }
}
