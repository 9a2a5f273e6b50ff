import type { Box } from './crop.ts';
import { resizeLikeOpenCv } from './opencv-resize.ts';

/**
 * Pastes generated 256 × 256 faces back into the photo as inference.py and blending.get_image do: the
 * face resized to the face box with cv2.resize (bilinear), then Pillow's paste through the feathered
 * mask (a rounded (face·a + photo·(255 − a)) / 255).
 */
export class FaceBlender {
  readonly width: number;
  readonly height: number;

  constructor(
    private readonly photo: Uint8Array,
    readonly photoWidth: number,
    readonly photoHeight: number,
    private readonly box: Box,
    /** Alpha (0–255) over the face box, row-major, (x2 − x1) × (y2 − y1). */
    private readonly alpha: Uint8Array,
    private readonly faceSize = 256,
  ) {
    this.width = box.x2 - box.x1;
    this.height = box.y2 - box.y1;
  }

  /** A new frame: the photo with `face` (RGB, faceSize²) blended in. */
  blend(face: Uint8Array, target: Uint8Array = new Uint8Array(this.photo.length)): Uint8Array {
    target.set(this.photo);
    const size = this.faceSize;
    const resized = resizeLikeOpenCv(face, size, size, 3, this.width, this.height, 'linear');
    const { x1, y1 } = this.box;
    for (let y = 0; y < this.height; y += 1) {
      const photoRow = ((y1 + y) * this.photoWidth + x1) * 3;
      for (let x = 0; x < this.width; x += 1) {
        const a = this.alpha[y * this.width + x];
        if (a === 0) continue;
        const at = photoRow + x * 3;
        const from = (y * this.width + x) * 3;
        for (let channel = 0; channel < 3; channel += 1)
          target[at + channel] = Math.round(
            (resized[from + channel] * a + target[at + channel] * (255 - a)) / 255,
          );
      }
    }
    return target;
  }
}
