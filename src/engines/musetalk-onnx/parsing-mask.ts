/**
 * MuseTalk v1.5's "jaw" blending mask from BiSeNet class ids (face_parsing/__init__.py), on the
 * 512 × 512 parser grid: skin dilated with MuseTalk's 33 × 33 kernel (which grows the region 16 rows up
 * and 6 down — cv2.dilate does not flip the kernel), eroded twice with the 35 × 3 ellipse where the
 * cheek bands are, then everything but the nose plus the mouth and lips. Both morphologies ignore
 * pixels outside the image, as OpenCV's defaults do.
 */
const SIZE = 512;
const SKIN = 1;
const NOSE = 10;
const LIP_CLASSES = new Set([11, 12, 13]);

/** The kernel's rows as [row offset, first column offset, last column offset] (anchor at 16,16). */
const DILATION_ROWS: [number, number, number][] = (() => {
  const rows: [number, number, number][] = [];
  for (let row = 10; row <= 20; row += 1) rows.push([row - 16, -(row - 10), row - 10]);
  for (let row = 21; row <= 32; row += 1) rows.push([row - 16, 6 - 16, 26 - 16]);
  return rows;
})();

function rowPrefixSums(image: Uint8Array): Int32Array {
  const sums = new Int32Array(SIZE * (SIZE + 1));
  for (let y = 0; y < SIZE; y += 1) {
    for (let x = 0; x < SIZE; x += 1)
      sums[y * (SIZE + 1) + x + 1] = sums[y * (SIZE + 1) + x] + (image[y * SIZE + x] ? 1 : 0);
  }
  return sums;
}

/** How many set pixels row y has in columns [from, to], clipped to the image. */
function countInRow(sums: Int32Array, y: number, from: number, to: number): number {
  const first = Math.max(0, from);
  const last = Math.min(SIZE - 1, to);
  if (y < 0 || y >= SIZE || last < first) return 0;
  return sums[y * (SIZE + 1) + last + 1] - sums[y * (SIZE + 1) + first];
}

export function dilateJaw(skin: Uint8Array): Uint8Array {
  const sums = rowPrefixSums(skin);
  const output = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y += 1) {
    for (let x = 0; x < SIZE; x += 1) {
      for (const [rowOffset, from, to] of DILATION_ROWS) {
        if (countInRow(sums, y + rowOffset, x + from, x + to) > 0) {
          output[y * SIZE + x] = 1;
          break;
        }
      }
    }
  }
  return output;
}

/** Erosion with the 35 × 3 ellipse (a full middle row, the centre pixel above and below); pixels outside count as set. */
export function erodeEllipse(image: Uint8Array): Uint8Array {
  const sums = rowPrefixSums(image);
  const output = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y += 1) {
    for (let x = 0; x < SIZE; x += 1) {
      const first = Math.max(0, x - 17);
      const last = Math.min(SIZE - 1, x + 17);
      const rowFull = countInRow(sums, y, first, last) === last - first + 1;
      const above = y === 0 || image[(y - 1) * SIZE + x] === 1;
      const below = y === SIZE - 1 || image[(y + 1) * SIZE + x] === 1;
      output[y * SIZE + x] = rowFull && above && below ? 1 : 0;
    }
  }
  return output;
}

/** The 0/255 jaw mask on the 512 × 512 grid from argmax class ids. */
export function jawMask(classes: Uint8Array, cheekLeft = 90, cheekRight = 90): Uint8Array {
  const skin = Uint8Array.from(classes, (value) => (value === SKIN ? 1 : 0));
  const dilated = dilateJaw(skin);
  const eroded = erodeEllipse(erodeEllipse(dilated));
  const mask = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y += 1) {
    for (let x = 0; x < SIZE; x += 1) {
      const index = y * SIZE + x;
      const cheek = x <= 256 - cheekLeft || x >= 256 + cheekRight;
      const filled = cheek ? eroded[index] : dilated[index];
      const keep = (filled === 1 && classes[index] !== NOSE) || LIP_CLASSES.has(classes[index]);
      mask[index] = keep ? 255 : 0;
    }
  }
  return mask;
}

/** OpenCV's GaussianBlur kernel for MuseTalk's normal blending: k = int(0.05·width // 2 × 2) + 1, and its sigma for sigma = 0. */
export function blurKernel(width: number): { size: number; sigma: number } {
  const size = Math.floor(Math.floor(0.05 * width) / 2) * 2 + 1;
  return { size, sigma: 0.3 * ((size - 1) / 2 - 1) + 0.8 };
}
