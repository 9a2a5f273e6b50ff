import { createHash } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import { InvalidInputError } from '../../errors.ts';

export interface AvatarImage {
  rgb: Uint8Array;
  width: number;
  height: number;
  /** sha256 of the uploaded bytes: keys the prepared-avatar cache. */
  hash: string;
}

/**
 * Decodes an avatar photo: the type is read from the content (JPEG, PNG or WebP), oversized images are
 * refused before decoding (no decompression bombs), EXIF rotation is applied, and the result is scaled
 * so its longer side is at most `maxSide` with even dimensions (H.264 in yuv420p needs them).
 */
export async function decodeAvatarImage(
  bytes: Buffer,
  limits: { maxBytes: number; maxPixels: number; maxSide: number },
): Promise<AvatarImage> {
  if (bytes.length > limits.maxBytes) {
    throw new InvalidInputError(
      `avatar_image is ${bytes.length} bytes; the limit is ${limits.maxBytes} (VIDEO_MAX_UPLOAD_BYTES)`,
      { statusCode: 413, code: 'avatar_too_large' },
    );
  }
  let metadata: Metadata;
  try {
    // Reading the header decodes no pixels, so the size check below happens before any decoding.
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new InvalidInputError(
      'avatar_image is not an image this server can read: send a JPEG, PNG or WebP photo',
      { statusCode: 415, code: 'not_an_image' },
    );
  }
  if (!metadata.format || !['jpeg', 'png', 'webp'].includes(metadata.format)) {
    throw new InvalidInputError(
      `avatar_image is ${metadata.format ?? 'not an image'}: send a JPEG, PNG or WebP photo`,
      { statusCode: 415, code: 'unsupported_image' },
    );
  }
  if ((metadata.width ?? 0) * (metadata.height ?? 0) > limits.maxPixels) {
    throw new InvalidInputError(
      `avatar_image is ${metadata.width} × ${metadata.height} pixels; the limit is ${limits.maxPixels} pixels (VIDEO_MAX_PIXELS)`,
      { statusCode: 413, code: 'avatar_too_many_pixels' },
    );
  }
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limits.maxPixels })
      .rotate()
      .resize({ width: limits.maxSide, height: limits.maxSide, fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const width = info.width - (info.width % 2);
    const height = info.height - (info.height % 2);
    const rgb = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y += 1)
      rgb.set(data.subarray(y * info.width * 3, (y * info.width + width) * 3), y * width * 3);
    return { rgb, width, height, hash: createHash('sha256').update(bytes).digest('hex') };
  } catch (error) {
    throw new InvalidInputError(`avatar_image could not be decoded: ${(error as Error).message}`, {
      statusCode: 422,
      code: 'broken_image',
      cause: error,
    });
  }
}
