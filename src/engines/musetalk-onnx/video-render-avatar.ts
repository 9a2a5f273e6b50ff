import type { RawVideoFrames } from '../../media/video-frames.ts';
import { FaceBlender } from './blend.ts';
import type { PreparedVideoAvatar } from './prepare-video-avatar.ts';
import { videoAvatarLayout } from './prepare-video-avatar.ts';
import { pingPongIndex, type RenderAvatar } from './render-avatar.ts';

/** Latents per avatar frame: masked crop then reference, 8 × 32 × 32. */
const LATENT_SIZE = 8 * 32 * 32;

/**
 * A video avatar: output frame i shows avatar frame pingPongIndex(i), with that frame's face box,
 * latents and blending alpha; frames without a face are shown unchanged (their mouth does not move).
 */
export function videoRenderAvatar(avatar: PreparedVideoAvatar, frames: RawVideoFrames): RenderAvatar {
  const layout = videoAvatarLayout(avatar.faceBoxes);
  const source = (frame: number) => pingPongIndex(frame, avatar.frameCount);
  const faceless = avatar.faceBoxes.filter((box) => box === null).length;
  return {
    width: avatar.width,
    height: avatar.height,
    latentsFor(frame) {
      const place = layout[source(frame)];
      if (!place) return undefined;
      return avatar.latents.subarray(place.latentIndex * LATENT_SIZE, (place.latentIndex + 1) * LATENT_SIZE);
    },
    async compose(frame, face) {
      const index = source(frame);
      const pixels = await frames.read(index);
      const box = avatar.faceBoxes[index];
      const place = layout[index];
      if (!face || !box || !place) return pixels;
      const alpha = avatar.alpha.subarray(
        place.alphaOffset,
        place.alphaOffset + (box.x2 - box.x1) * (box.y2 - box.y1),
      );
      // The blender copies the frame first, so it may blend into the frame's own buffer.
      return new FaceBlender(pixels, avatar.width, avatar.height, box, alpha).blend(face, pixels);
    },
    notices:
      faceless === 0
        ? []
        : [
            `${faceless} of the ${avatar.frameCount} frames of the avatar video have no usable face ` +
              `(none, or several with none clearly the main one): they are shown unchanged, without lip movement`,
          ],
  };
}
