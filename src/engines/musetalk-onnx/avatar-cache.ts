import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DiskCache } from '../../storage/disk-cache.ts';
import type { AvatarImage } from './image-input.ts';
import type { MuseTalkRuntime } from './musetalk-runtime.ts';
import { prepareAvatar, type PreparedAvatar } from './prepare-avatar.ts';
import { readPreparedAvatarFiles, writePreparedAvatarFiles } from './prepared-avatar-files.ts';

/**
 * Changes whenever avatar preparation computes something different (so older cache files are not
 * reused): 2 = the crop, parser input, mask resize and blur made as OpenCV and Pillow make them.
 */
const PREPARATION_VERSION = 2;

/** Prepared avatars kept in memory; each holds its photo, latents and mask (a few MB). */
const AVATARS_IN_MEMORY = 16;

/**
 * Prepared avatars, in memory and on disk so a restart does not prepare them again, keyed by
 * everything they are made from: the image, its decoded size (VIDEO_MAX_SIDE), the models' weights
 * and variant, and the preparation code's version. Switching models (say from synthetic ones to real
 * ones) therefore prepares avatars again instead of reusing latents and masks made by other weights.
 */
export class AvatarCache {
  private readonly memory = new LRUCache<string, Promise<PreparedAvatar>>({ max: AVATARS_IN_MEMORY });
  private readonly files: DiskCache;

  constructor(options: { directory: string; maxBytes: number }) {
    this.files = new DiskCache({ ...options, label: 'prepared avatar' });
  }

  static key(image: AvatarImage, runtime: Pick<MuseTalkRuntime, 'fingerprint'>): string {
    return createHash('sha256')
      .update(
        `${PREPARATION_VERSION}\u0000${runtime.fingerprint}\u0000${image.hash}\u0000${image.width}x${image.height}`,
      )
      .digest('hex');
  }

  get(image: AvatarImage, runtime: MuseTalkRuntime): Promise<PreparedAvatar> {
    const key = AvatarCache.key(image, runtime);
    let avatar = this.memory.get(key);
    if (!avatar) {
      avatar = this.load(key, image, runtime);
      this.memory.set(key, avatar);
      avatar.catch(() => this.memory.delete(key));
    }
    return avatar;
  }

  /** A stored avatar, or undefined when absent or incomplete. */
  private async read(key: string, image: AvatarImage): Promise<PreparedAvatar | undefined> {
    const stored = await readPreparedAvatarFiles<Omit<PreparedAvatar, 'photo' | 'latents' | 'alpha'>>(
      this.files,
      key,
    );
    return stored && { ...stored.meta, photo: image.rgb, latents: stored.latents, alpha: stored.alpha };
  }

  private async load(key: string, image: AvatarImage, runtime: MuseTalkRuntime): Promise<PreparedAvatar> {
    const stored = await this.read(key, image);
    if (stored) return stored;
    const prepared = await prepareAvatar(image, runtime);
    const { photo: _photo, latents, alpha, ...meta } = prepared;
    void _photo;
    await writePreparedAvatarFiles(this.files, key, { latents, alpha, meta });
    return prepared;
  }
}
