import { AvatarCache } from './avatar-cache.ts';
import { decodeAvatarImage } from './image-input.ts';
import type { MuseTalkRuntime } from './musetalk-runtime.ts';
import { photoRenderAvatar, type RenderAvatar } from './render-avatar.ts';
import { VideoAvatarCache } from './video-avatar-cache.ts';
import { openAvatarVideo, type VideoAvatarLimits } from './video-input.ts';
import { videoRenderAvatar } from './video-render-avatar.ts';

/** An avatar as the worker receives it: the file's bytes and what they are. */
export interface AvatarFile {
  bytes: Buffer;
  media: 'image' | 'video';
}

/** An avatar ready to render; `close` frees what it holds (a video's decoded frames). */
export interface OpenedAvatar {
  avatar: RenderAvatar;
  hash: string;
  close(): Promise<void>;
}

/**
 * Photos and videos to prepared, renderable avatars, through their caches: a photo is decoded and
 * prepared once; a video is decoded to frames for each render (they are not cached, see
 * video-frames.ts) and its per-frame preparation is done once.
 */
export class AvatarPreparer {
  private readonly photos: AvatarCache;
  private readonly videos: VideoAvatarCache;

  constructor(
    private readonly runtime: MuseTalkRuntime,
    private readonly options: {
      cacheDirectory: string;
      cacheMaxBytes: number;
      imageLimits: { maxBytes: number; maxPixels: number; maxSide: number };
      videoLimits: VideoAvatarLimits;
    },
  ) {
    const cache = { directory: options.cacheDirectory, maxBytes: options.cacheMaxBytes };
    this.photos = new AvatarCache(cache);
    this.videos = new VideoAvatarCache(cache);
  }

  async open(file: AvatarFile, onProgress: (fraction: number) => void = () => {}): Promise<OpenedAvatar> {
    if (file.media === 'image') {
      const image = await decodeAvatarImage(Buffer.from(file.bytes), this.options.imageLimits);
      const prepared = await this.photos.get(image, this.runtime);
      return { avatar: photoRenderAvatar(prepared), hash: prepared.hash, close: async () => {} };
    }
    const video = await openAvatarVideo(Buffer.from(file.bytes), this.options.videoLimits);
    try {
      const prepared = await this.videos.get(video, this.runtime, onProgress);
      return { avatar: videoRenderAvatar(prepared, video.frames), hash: prepared.hash, close: video.close };
    } catch (error) {
      await video.close();
      throw error;
    }
  }
}
