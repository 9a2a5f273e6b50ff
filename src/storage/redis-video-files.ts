import type { Redis } from 'ioredis';
import type { SharedVideoFiles } from '../core/video-store.ts';
import { REDIS_KEY_PREFIX } from './redis-connection.ts';

/**
 * Kept videos in Redis, so that every server sharing REDIS_URL serves any of them: one key per
 * video, holding its MP4 bytes, that Redis deletes when VIDEO_OUTPUT_KEEP_S has passed.
 */
export class RedisVideoFiles implements SharedVideoFiles {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
  ) {}

  private key(name: string): string {
    return `${REDIS_KEY_PREFIX}:${this.queueName}:video:${name}`;
  }

  async put(name: string, mp4: Buffer, keepSeconds: number): Promise<void> {
    await this.redis.set(this.key(name), mp4, 'EX', keepSeconds);
  }

  async get(name: string): Promise<{ mp4: Buffer; expiresInMs: number } | undefined> {
    const results = await this.redis.multi().getBuffer(this.key(name)).pttl(this.key(name)).exec();
    const mp4 = results?.[0]?.[1] as Buffer | null | undefined;
    const expiresInMs = Number(results?.[1]?.[1] ?? -1);
    if (!mp4 || expiresInMs <= 0) return undefined;
    return { mp4, expiresInMs };
  }
}
