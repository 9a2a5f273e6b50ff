import { blendingSquare, cropRgb, museTalkFaceBox, toNormalizedChw, type Box } from './crop.ts';
import { detectFaces, selectDominantFace } from './face-detector.ts';
import type { AvatarImage } from './image-input.ts';
import type { MuseTalkRuntime } from './musetalk-runtime.ts';
import { gaussianBlurLikeOpenCv } from './opencv-gaussian-blur.ts';
import { resizeLikeOpenCv } from './opencv-resize.ts';
import { blurKernel, jawMask } from './parsing-mask.ts';
import { resizeLikePillow } from './pillow-resize.ts';

/** Everything per avatar that does not depend on the speech: computed once, cached by image hash. */
export interface PreparedAvatar {
  hash: string;
  width: number;
  height: number;
  photo: Uint8Array;
  faceBox: Box;
  /** [8 × 32 × 32]: masked crop latents, then reference latents (the UNet's first input). */
  latents: Float32Array;
  /** Blending alpha over the face box, (x2 − x1) × (y2 − y1). */
  alpha: Uint8Array;
}

/**
 * Avatar preparation (MuseTalk v1.5): face and landmarks, the landmark-29 crop box, the 256 × 256
 * crop and its masked copy through the VAE encoder, and the jaw-mode parsing mask placed, cut at half
 * height and feathered as blending.py does. Every resize and blur reproduces the OpenCV or Pillow call
 * the official code makes (tested pixel for pixel against it).
 */
export async function prepareAvatar(image: AvatarImage, runtime: MuseTalkRuntime): Promise<PreparedAvatar> {
  const face = selectDominantFace(await detectFaces(image.rgb, image.width, image.height));
  const faceBox = museTalkFaceBox(face, image.width, image.height);
  const crop = faceCrop(image, faceBox);
  const batch = new Float32Array(2 * 3 * 256 * 256);
  batch.set(toNormalizedChw(crop, 256, true), 0);
  batch.set(toNormalizedChw(crop, 256, false), 3 * 256 * 256);
  const latents = await runtime.encode(batch, 2);
  const square = blendingSquare(faceBox);
  const mask512 = jawMask(await runtime.parse(parserInput(image, square)));
  return {
    hash: image.hash,
    width: image.width,
    height: image.height,
    photo: image.rgb,
    faceBox,
    latents,
    alpha: blendingAlpha(mask512, faceBox, square),
  };
}

/** inference.py: the face box cut out and resized to 256 × 256 with cv2's Lanczos-4. */
export function faceCrop(image: { rgb: Uint8Array; width: number; height: number }, box: Box): Uint8Array {
  const region = cropRgb(image.rgb, image.width, image.height, box);
  return resizeLikeOpenCv(region, box.x2 - box.x1, box.y2 - box.y1, 3, 256, 256, 'lanczos4');
}

/** FaceParsing's input: the blending square (black where it leaves the photo), Pillow-bilinear to 512². */
export function parserInput(
  image: { rgb: Uint8Array; width: number; height: number },
  square: Box,
): Uint8Array {
  const size = square.x2 - square.x1;
  const large = cropRgb(image.rgb, image.width, image.height, square);
  return resizeLikePillow(large, size, size, 3, 512, 512, 'bilinear');
}

/**
 * blending.get_image's mask, as alpha over the face box: the 512² jaw mask resized to the square
 * (Pillow's default bicubic), kept only inside the face box and below half the square's height, then
 * feathered with cv2.GaussianBlur (kernel 0.05 × the square's width). Outside the face box the photo
 * is blended with itself, so only the face box's alpha matters.
 */
export function blendingAlpha(mask512: Uint8Array, faceBox: Box, square: Box): Uint8Array {
  const size = square.x2 - square.x1;
  const resized = resizeLikePillow(mask512, 512, 512, 1, size, size, 'bicubic');
  const placed = new Uint8Array(size * size);
  const top = Math.floor(0.5 * size);
  for (let y = Math.max(faceBox.y1 - square.y1, top); y < faceBox.y2 - square.y1; y += 1) {
    for (let x = faceBox.x1 - square.x1; x < faceBox.x2 - square.x1; x += 1)
      placed[y * size + x] = resized[y * size + x];
  }
  const feathered = gaussianBlurLikeOpenCv(placed, size, size, blurKernel(size).size);
  const faceWidth = faceBox.x2 - faceBox.x1;
  const faceHeight = faceBox.y2 - faceBox.y1;
  const alpha = new Uint8Array(faceWidth * faceHeight);
  for (let y = 0; y < faceHeight; y += 1) {
    for (let x = 0; x < faceWidth; x += 1)
      alpha[y * faceWidth + x] = feathered[(y + faceBox.y1 - square.y1) * size + x + faceBox.x1 - square.x1];
  }
  return alpha;
}
