import type { Box } from './crop.ts';

/**
 * Pastes generated 256 × 256 faces back into the photo (blending.py get_image): the face is resized to
 * the face box with bilinear interpolation and alpha-blended through the feathered mask. Everything
 * that does not change between frames — the sampling positions, weights and the mask — is computed
 * once per avatar, so a frame costs one pass over the face box.
 */
export class FaceBlender {
  private readonly columns: { left: Int32Array; weight: Float32Array };
  private readonly rows: { top: Int32Array; weight: Float32Array };
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
    this.columns = bilinearTaps(this.width, faceSize);
    const rows = bilinearTaps(this.height, faceSize);
    this.rows = { top: rows.left, weight: rows.weight };
  }

  /** A new frame: the photo with `face` (RGB, faceSize²) blended in. */
  blend(face: Uint8Array, target: Uint8Array = new Uint8Array(this.photo.length)): Uint8Array {
    target.set(this.photo);
    const { x1, y1 } = this.box;
    const size = this.faceSize;
    for (let y = 0; y < this.height; y += 1) {
      const top = this.rows.top[y];
      const bottom = Math.min(top + 1, size - 1);
      const wy = this.rows.weight[y];
      const photoRow = ((y1 + y) * this.photoWidth + x1) * 3;
      for (let x = 0; x < this.width; x += 1) {
        const a = this.alpha[y * this.width + x];
        if (a === 0) continue;
        const left = this.columns.left[x];
        const right = Math.min(left + 1, size - 1);
        const wx = this.columns.weight[x];
        const at = photoRow + x * 3;
        for (let channel = 0; channel < 3; channel += 1) {
          const topValue =
            face[(top * size + left) * 3 + channel] * (1 - wx) +
            face[(top * size + right) * 3 + channel] * wx;
          const bottomValue =
            face[(bottom * size + left) * 3 + channel] * (1 - wx) +
            face[(bottom * size + right) * 3 + channel] * wx;
          const generated = topValue * (1 - wy) + bottomValue * wy;
          target[at + channel] = Math.round((target[at + channel] * (255 - a) + generated * a) / 255);
        }
      }
    }
    return target;
  }
}

/** cv2.resize INTER_LINEAR's source positions: centre-aligned, clamped at the edges. */
function bilinearTaps(outputSize: number, inputSize: number): { left: Int32Array; weight: Float32Array } {
  const left = new Int32Array(outputSize);
  const weight = new Float32Array(outputSize);
  const scale = inputSize / outputSize;
  for (let index = 0; index < outputSize; index += 1) {
    const source = Math.min(Math.max((index + 0.5) * scale - 0.5, 0), inputSize - 1);
    left[index] = Math.floor(source);
    weight[index] = source - left[index];
  }
  return { left, weight };
}
