import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DiskCache } from '../../storage/disk-cache.ts';
import { VIDEO_ENCODING } from '../../media/video-encoder.ts';
import type { MuseTalkRuntime } from './musetalk-runtime.ts';
import { prepareVideoAvatar, type PreparedVideoAvatar } from './prepare-video-avatar.ts';
import { readPreparedAvatarFiles, writePreparedAvatarFiles } from './prepared-avatar-files.ts';
import type { AvatarVideo } from './video-input.ts';

/** Changes whenever video preparation computes something different, so older files are not reused. */
const VIDEO_PREPARATION_VERSION = 1;

/**
 * Prepared video avatars kept in memory: each is up to VIDEO_AVATAR_MAX_FRAMES × (32 KB of latents +
 * its face box's area in alpha), about 20–50 MB at the default 250 frames, so fewer than photos.
 */
const VIDEO_AVATARS_IN_MEMORY = 4;

/**
 * Prepared video avatars, in memory and on disk (beside the photos', in the same budget), keyed as
 * photos are by everything they are made from: the video's bytes, its decoded size and frame rate,
 * the models' weights and the preparation code's version.
 */
export class VideoAvatarCache {
  private readonly memory = new LRUCache<string, Promise<PreparedVideoAvatar>>({
    max: VIDEO_AVATARS_IN_MEMORY,
  });
  private readonly files: DiskCache;

  constructor(options: { directory: string; maxBytes: number }) {
    this.files = new DiskCache({ ...options, label: 'prepared avatar' });
  }

  static key(
    video: Pick<AvatarVideo, 'hash' | 'width' | 'height'>,
    runtime: Pick<MuseTalkRuntime, 'fingerprint'>,
  ): string {
    return createHash('sha256')
      .update(
        `video\u0000${VIDEO_PREPARATION_VERSION}\u0000${runtime.fingerprint}\u0000${video.hash}\u0000` +
          `${video.width}x${video.height}@${VIDEO_ENCODING.fps}`,
      )
      .digest('hex');
  }

  /**
   * The prepared avatar, computed at most once at a time per key. A preparation is not cancelled
   * with the request that started it: others may wait on it, and a client that retries gets it at once.
   */
  get(
    video: AvatarVideo,
    runtime: MuseTalkRuntime,
    onProgress?: (fraction: number) => void,
  ): Promise<PreparedVideoAvatar> {
    const key = VideoAvatarCache.key(video, runtime);
    let avatar = this.memory.get(key);
    if (!avatar) {
      avatar = this.load(key, video, runtime, onProgress);
      this.memory.set(key, avatar);
      avatar.catch(() => this.memory.delete(key));
    }
    return avatar;
  }

  /** A stored avatar, or undefined when absent or incomplete. */
  private async read(key: string): Promise<PreparedVideoAvatar | undefined> {
    const stored = await readPreparedAvatarFiles<Omit<PreparedVideoAvatar, 'latents' | 'alpha'>>(
      this.files,
      key,
    );
    if (!stored || stored.meta.faceBoxes.length !== stored.meta.frameCount) return undefined;
    return { ...stored.meta, latents: stored.latents, alpha: stored.alpha };
  }

  private async load(
    key: string,
    video: AvatarVideo,
    runtime: MuseTalkRuntime,
    onProgress?: (fraction: number) => void,
  ): Promise<PreparedVideoAvatar> {
    const stored = await this.read(key);
    if (stored) return stored;
    const prepared = await prepareVideoAvatar(video, runtime, onProgress);
    const { latents, alpha, ...meta } = prepared;
    await writePreparedAvatarFiles(this.files, key, { latents, alpha, meta });
    return prepared;
  }
}
