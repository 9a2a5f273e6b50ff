import { InvalidInputError } from '../../errors.ts';
import type { Box } from './crop.ts';
import type { MuseTalkRuntime } from './musetalk-runtime.ts';
import { prepareAvatar } from './prepare-avatar.ts';
import type { AvatarVideo } from './video-input.ts';

/**
 * A video avatar's per-frame preparation, stored compactly: only frames with a face have latents and
 * alpha, packed one after another in frame order (about 32 KB of latents plus the face box's area in
 * alpha bytes per frame). The frames themselves are not kept here: they are decoded again from the
 * video for each render.
 */
export interface PreparedVideoAvatar {
  hash: string;
  width: number;
  height: number;
  frameCount: number;
  /** Per avatar frame: its face box, or null where no usable face was found (shown unchanged). */
  faceBoxes: (Box | null)[];
  /** [8 × 32 × 32] per frame with a face, in frame order. */
  latents: Float32Array;
  /** Blending alpha over each face box, (x2 − x1) × (y2 − y1) bytes per frame with a face, in order. */
  alpha: Uint8Array;
}

/** Where frame `index`'s latents and alpha lie in the packed arrays (undefined: no face). */
export function videoAvatarLayout(
  faceBoxes: readonly (Box | null)[],
): ({ latentIndex: number; alphaOffset: number } | undefined)[] {
  let latentIndex = 0;
  let alphaOffset = 0;
  return faceBoxes.map((box) => {
    if (!box) return undefined;
    const place = { latentIndex, alphaOffset };
    latentIndex += 1;
    alphaOffset += (box.x2 - box.x1) * (box.y2 - box.y1);
    return place;
  });
}

/** The photo path's refusals that mean "no usable face in this frame", not "broken input". */
const FACELESS = new Set(['no_face', 'several_faces']);

/**
 * Prepares every frame exactly as a photo is prepared (the official pipeline does the same per frame):
 * face and landmarks, crop box, VAE latents of the crop and its masked copy, and the jaw-mode blending
 * alpha. A frame where no face (or no clearly main face) is found is kept without one, and is shown
 * unchanged when rendered; a video with no face in any frame is a 422.
 */
export async function prepareVideoAvatar(
  video: AvatarVideo,
  runtime: MuseTalkRuntime,
  onProgress: (fraction: number) => void = () => {},
): Promise<PreparedVideoAvatar> {
  const count = video.frames.count;
  const faceBoxes: (Box | null)[] = [];
  const latents: Float32Array[] = [];
  const alpha: Uint8Array[] = [];
  for (let index = 0; index < count; index += 1) {
    const rgb = await video.frames.read(index);
    try {
      const frame = await prepareAvatar(
        { rgb, width: video.width, height: video.height, hash: video.hash },
        runtime,
      );
      faceBoxes.push(frame.faceBox);
      latents.push(frame.latents);
      alpha.push(frame.alpha);
    } catch (error) {
      if (!(error instanceof InvalidInputError && FACELESS.has(error.code))) throw error;
      faceBoxes.push(null);
    }
    onProgress((index + 1) / count);
  }
  if (latents.length === 0) {
    throw new InvalidInputError(
      `no face was found in any of the ${count} frames of avatar_video: send a video with one clearly visible, front-facing face`,
      { statusCode: 422, code: 'no_face' },
    );
  }
  return {
    hash: video.hash,
    width: video.width,
    height: video.height,
    frameCount: count,
    faceBoxes,
    latents: concatenate(latents, Float32Array),
    alpha: concatenate(alpha, Uint8Array),
  };
}

function concatenate<T extends Float32Array | Uint8Array>(parts: T[], Type: new (length: number) => T): T {
  const output = new Type(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    output.set(part, offset);
    offset += part.length;
  }
  return output;
}
