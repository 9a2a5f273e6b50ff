import type { DetectedFace } from './face-detector.ts';

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * MuseTalk v1.5's face box from the 68 landmarks (preprocessing.py get_landmark_and_bbox, with
 * inference.py's extra_margin): half = y of landmark 29 (+ bbox_shift), dist = lowest landmark − half,
 * top = half − dist, sides = the extreme landmarks, bottom = the lowest landmark + 10 px. Coordinates are
 * truncated to integers first, as MuseTalk's astype(int32) does. A degenerate box falls back to the
 * detector's box.
 */
export function museTalkFaceBox(
  face: DetectedFace,
  width: number,
  height: number,
  options: { bboxShift?: number; extraMargin?: number } = {},
): Box {
  const points = face.landmarks.map(([x, y]) => [Math.trunc(x), Math.trunc(y)] as const);
  const half = points[29][1] + (options.bboxShift ?? 0);
  const lowest = Math.max(...points.map(([, y]) => y));
  const dist = lowest - half;
  const box = {
    x1: Math.min(...points.map(([x]) => x)),
    y1: Math.max(0, half - dist),
    x2: Math.max(...points.map(([x]) => x)),
    y2: lowest,
  };
  if (box.y2 - box.y1 <= 0 || box.x2 - box.x1 <= 0 || box.x1 < 0) {
    box.x1 = Math.max(0, Math.trunc(face.box.x));
    box.y1 = Math.max(0, Math.trunc(face.box.y));
    box.x2 = Math.trunc(face.box.x + face.box.width);
    box.y2 = Math.trunc(face.box.y + face.box.height);
  }
  box.x2 = Math.min(box.x2, width);
  box.y2 = Math.min(box.y2 + (options.extraMargin ?? 10), height);
  return box;
}

/** blending.py's crop_box: a square of side 2s around the face box, s = max(w, h) // 2 × 1.5 (may leave the image). */
export function blendingSquare(box: Box): Box {
  const centerX = Math.floor((box.x1 + box.x2) / 2);
  const centerY = Math.floor((box.y1 + box.y2) / 2);
  const half = Math.trunc(Math.floor(Math.max(box.x2 - box.x1, box.y2 - box.y1) / 2) * 1.5);
  return { x1: centerX - half, y1: centerY - half, x2: centerX + half, y2: centerY + half };
}

/** Copies a region of an RGB image, black where it leaves the image (as PIL's crop does). */
export function cropRgb(rgb: Uint8Array, width: number, height: number, region: Box): Uint8Array {
  const regionWidth = region.x2 - region.x1;
  const regionHeight = region.y2 - region.y1;
  const output = new Uint8Array(regionWidth * regionHeight * 3);
  for (let y = 0; y < regionHeight; y += 1) {
    const sourceY = region.y1 + y;
    if (sourceY < 0 || sourceY >= height) continue;
    const firstX = Math.max(0, -region.x1);
    const lastX = Math.min(regionWidth, width - region.x1);
    if (lastX <= firstX) continue;
    output.set(
      rgb.subarray((sourceY * width + region.x1 + firstX) * 3, (sourceY * width + region.x1 + lastX) * 3),
      (y * regionWidth + firstX) * 3,
    );
  }
  return output;
}

/** RGB bytes (H × W × 3) → NCHW floats in [-1, 1]; `maskLowerHalf` sets rows from the middle down to −1 (MuseTalk's masked crop). */
export function toNormalizedChw(rgb: Uint8Array, size: number, maskLowerHalf: boolean): Float32Array {
  const output = new Float32Array(3 * size * size);
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      for (let channel = 0; channel < 3; channel += 1) {
        const value = maskLowerHalf && y >= size / 2 ? -1 : rgb[(y * size + x) * 3 + channel] / 127.5 - 1;
        output[channel * size * size + y * size + x] = value;
      }
    }
  }
  return output;
}
