import type { Logger } from 'pino';
import type { RenderedVideo, StoredRenders } from '../core/video-service.ts';
import { DiskCache } from './disk-cache.ts';

/** What is kept of a render besides its MP4 (the MP4 follows this JSON in the same file). */
type RenderFacts = Omit<RenderedVideo, 'mp4' | 'fromCache'>;

/**
 * Finished renders on disk (CACHE_DIR/renders), one file per render: a 4-byte length, the render's
 * facts as JSON, then the MP4. Bounded by VIDEO_CACHE_MB, least recently used out, kept across
 * restarts; a write that fails only means the render is not cached (DiskCache).
 */
export class RenderCache implements StoredRenders {
  private readonly files: DiskCache;

  constructor(options: { directory: string; maxBytes: number; logger?: Logger }) {
    this.files = new DiskCache({ ...options, label: 'render' });
  }

  async get(key: string): Promise<RenderedVideo | undefined> {
    const stored = await this.files.read(`${key}.render`);
    if (!stored || stored.length < 4) return undefined;
    const factsLength = stored.readUInt32BE(0);
    if (4 + factsLength > stored.length) return undefined;
    try {
      const facts = JSON.parse(stored.subarray(4, 4 + factsLength).toString('utf8')) as RenderFacts;
      return { ...facts, mp4: stored.subarray(4 + factsLength), fromCache: true };
    } catch {
      await this.files.remove(`${key}.render`); // damaged: render it again next time
      return undefined;
    }
  }

  async put(key: string, video: RenderedVideo): Promise<void> {
    const { mp4, fromCache: _fromCache, ...facts } = video;
    const json = Buffer.from(JSON.stringify(facts), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(json.length);
    await this.files.write(`${key}.render`, Buffer.concat([length, json, mp4]));
  }
}
