import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AvatarImage } from './image-input.ts';
import type { MuseTalkRuntime } from './musetalk-runtime.ts';
import { prepareAvatar, type PreparedAvatar } from './prepare-avatar.ts';

/** Prepared avatars by image hash: in memory, and on disk so a restart does not prepare them again. */
export class AvatarCache {
  private readonly memory = new Map<string, Promise<PreparedAvatar>>();

  constructor(private readonly directory: string) {}

  get(image: AvatarImage, runtime: MuseTalkRuntime): Promise<PreparedAvatar> {
    let avatar = this.memory.get(image.hash);
    if (!avatar) {
      avatar = this.load(image, runtime);
      this.memory.set(image.hash, avatar);
      avatar.catch(() => this.memory.delete(image.hash));
    }
    return avatar;
  }

  private files(hash: string) {
    return {
      meta: path.join(this.directory, `${hash}.json`),
      data: path.join(this.directory, `${hash}.bin`),
    };
  }

  private async load(image: AvatarImage, runtime: MuseTalkRuntime): Promise<PreparedAvatar> {
    const files = this.files(image.hash);
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
