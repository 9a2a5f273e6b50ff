import sharp from 'sharp';
import { blendingSquare, cropRgb, museTalkFaceBox, toNormalizedChw, type Box } from './crop.ts';
import { detectFaces, selectDominantFace } from './face-detector.ts';
import type { AvatarImage } from './image-input.ts';
import type { MuseTalkRuntime } from './musetalk-runtime.ts';
import { blurKernel, jawMask } from './parsing-mask.ts';

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
 * height and feathered as blending.py does.
 */
export async function prepareAvatar(image: AvatarImage, runtime: MuseTalkRuntime): Promise<PreparedAvatar> {
  const face = selectDominantFace(await detectFaces(image.rgb, image.width, image.height));
  const faceBox = museTalkFaceBox(face, image.width, image.height);
  const faceWidth = faceBox.x2 - faceBox.x1;
  const faceHeight = faceBox.y2 - faceBox.y1;
  const raw = { raw: { width: image.width, height: image.height, channels: 3 as const } };
  const crop = new Uint8Array(
    await sharp(image.rgb, raw)
      .extract({ left: faceBox.x1, top: faceBox.y1, width: faceWidth, height: faceHeight })
      .resize(256, 256, { kernel: 'lanczos3', fit: 'fill' })
      .raw()
      .toBuffer(),
  );
  const batch = new Float32Array(2 * 3 * 256 * 256);
  batch.set(toNormalizedChw(crop, 256, true), 0);
  batch.set(toNormalizedChw(crop, 256, false), 3 * 256 * 256);
  const latents = await runtime.encode(batch, 2);

  // The parsing mask is computed on the larger square around the face, then cut to the face box.
  const square = blendingSquare(faceBox);
  const squareSize = square.x2 - square.x1;
  const large = cropRgb(image.rgb, image.width, image.height, square);
  const parserInput = new Uint8Array(
    await sharp(large, { raw: { width: squareSize, height: squareSize, channels: 3 } })
      .resize(512, 512, { kernel: 'linear' })
      .raw()
      .toBuffer(),
  );
  const mask512 = jawMask(await runtime.parse(parserInput));
  // sharp widens one-channel raw input to three channels; extractChannel keeps masks single-channel.
  const maskLarge = new Uint8Array(
    await sharp(mask512, { raw: { width: 512, height: 512, channels: 1 } })
      .resize(squareSize, squareSize, { kernel: 'cubic' })
      .extractChannel(0)
      .raw()
      .toBuffer(),
  );
  const placed = new Uint8Array(squareSize * squareSize);
  const top = Math.floor(0.5 * squareSize);
  for (let y = Math.max(faceBox.y1 - square.y1, top); y < faceBox.y2 - square.y1; y += 1) {
    for (let x = faceBox.x1 - square.x1; x < faceBox.x2 - square.x1; x += 1)
      placed[y * squareSize + x] = maskLarge[y * squareSize + x];
  }
  const { sigma } = blurKernel(squareSize);
  const feathered = new Uint8Array(
    await sharp(placed, { raw: { width: squareSize, height: squareSize, channels: 1 } })
      .blur(Math.max(0.3, sigma))
      .extractChannel(0)
      .raw()
      .toBuffer(),
  );
  const alpha = new Uint8Array(faceWidth * faceHeight);
  for (let y = 0; y < faceHeight; y += 1) {
    for (let x = 0; x < faceWidth; x += 1)
      alpha[y * faceWidth + x] =
        feathered[(y + faceBox.y1 - square.y1) * squareSize + x + faceBox.x1 - square.x1];
  }
  return {
    hash: image.hash,
    width: image.width,
    height: image.height,
    photo: image.rgb,
    faceBox,
    latents,
    alpha,
  };
}
