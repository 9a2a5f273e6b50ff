import { FaceBlender } from './blend.ts';
import type { PreparedAvatar } from './prepare-avatar.ts';

/** What rendering needs of an avatar, per output frame: a photo gives the same for every frame. */
export interface RenderAvatar {
  width: number;
  height: number;
  /** The UNet's first input for output frame `frame`; undefined: no face there, shown as it is. */
  latentsFor(frame: number): Float32Array | undefined;
  /** Output frame `frame`: the generated face (256² RGB) blended in, or the avatar frame unchanged. */
  compose(frame: number, face: Uint8Array | undefined): Promise<Uint8Array>;
  /** Things the client should know about this avatar (frames without a face). */
  notices: string[];
}

/**
 * The avatar frame that output frame `frame` shows: forward through the video, then backward, and again
 * (the official realtime pipeline cycles frame_list + reversed(frame_list)), so the motion never jumps
 * from the last frame back to the first. Each end frame shows twice in a row, as it does there.
 */
export function pingPongIndex(frame: number, frameCount: number): number {
  const position = frame % (2 * frameCount);
  return position < frameCount ? position : 2 * frameCount - 1 - position;
}

/** A photo: the same latents and the same blending for every frame. */
export function photoRenderAvatar(avatar: PreparedAvatar): RenderAvatar {
  const blender = new FaceBlender(avatar.photo, avatar.width, avatar.height, avatar.faceBox, avatar.alpha);
  return {
    width: avatar.width,
    height: avatar.height,
    latentsFor: () => avatar.latents,
    compose: async (_frame, face) => (face ? blender.blend(face) : avatar.photo.slice()),
    notices: [],
  };
}
