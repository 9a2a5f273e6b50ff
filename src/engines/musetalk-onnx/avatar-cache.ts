import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AvatarImage } from './image-input.ts';
import type { MuseTalkRuntime } from './musetalk-runtime.ts';
import { prepareAvatar, type PreparedAvatar } from './prepare-avatar.ts';

/**
 * Changes whenever avatar preparation computes something different (so older cache files are not
 * reused): 2 = the crop, parser input, mask resize and blur made as OpenCV and Pillow make them.
 */
const PREPARATION_VERSION = 2;

/**
 * Prepared avatars, in memory and on disk so a restart does not prepare them again, keyed by
 * everything they are made from: the image, its decoded size (VIDEO_MAX_SIDE), the models' weights
 * and variant, and the preparation code's version. Switching models (say from synthetic ones to real
 * ones) therefore prepares avatars again instead of reusing latents and masks made by other weights.
 */
export class AvatarCache {
  private readonly memory = new Map<string, Promise<PreparedAvatar>>();

  constructor(private readonly directory: string) {}

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

  private files(hash: string) {
    return {
      meta: path.join(this.directory, `${hash}.json`),
      data: path.join(this.directory, `${hash}.bin`),
    };
  }

  private async load(key: string, image: AvatarImage, runtime: MuseTalkRuntime): Promise<PreparedAvatar> {
    const files = this.files(key);
    try {
      const meta = JSON.parse(await readFile(files.meta, 'utf8')) as Omit<
        PreparedAvatar,
        'photo' | 'latents' | 'alpha'
      > & { latents: number; alpha: number };
      const data = await readFile(files.data);
      const latentBytes = meta.latents * 4;
      const latents = new Float32Array(new Uint8Array(data.subarray(0, latentBytes)).buffer);
      const alpha = new Uint8Array(data.subarray(latentBytes, latentBytes + meta.alpha));
      return { ...meta, photo: image.rgb, latents, alpha };
    } catch {
      // Not prepared yet (or an unreadable cache entry): prepare it now.
    }
    const prepared = await prepareAvatar(image, runtime);
    await mkdir(this.directory, { recursive: true });
    const { photo: _photo, latents, alpha, ...meta } = prepared;
    void _photo;
    await writeFile(
      files.data,
      Buffer.concat([
        Buffer.from(latents.buffer, latents.byteOffset, latents.byteLength),
        Buffer.from(alpha),
      ]),
    );
    await writeFile(files.meta, JSON.stringify({ ...meta, latents: latents.length, alpha: alpha.length }));
    return prepared;
  }
}
