/**
 * Pillow's Image.resize for 8-bit images, as MuseTalk's face parsing calls it: BILINEAR for the
 * parser's 512 × 512 input, BICUBIC (Pillow's default) to bring the parsed mask back to the blending
 * square. Pillow widens the filter by the scale when shrinking (antialiasing), keeps 22-bit
 * fixed-point weights, and rounds to 8 bits after the horizontal pass and again after the vertical
 * one (Resample.c). Reimplemented because sharp (libvips) resamples differently, and these pixels
 * decide the blending mask.
 */

type Filter = { support: number; weight: (x: number) => number };

const FILTERS: Record<'bilinear' | 'bicubic', Filter> = {
  bilinear: { support: 1, weight: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) },
  bicubic: {
    support: 2,
    weight: (value) => {
      const a = -0.5;
      const x = Math.abs(value);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
};

const PRECISION_BITS = 32 - 8 - 2;

interface Coefficients {
  bounds: Int32Array; // [first, count] per output
  weights: Int32Array; // fixed point, `size` per output
  size: number;
}

/** Resample.c precompute_coeffs + normalize_coeffs_8bpc. */
function coefficients(inputSize: number, outputSize: number, filter: Filter): Coefficients {
  const scale = inputSize / outputSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const size = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outputSize * 2);
  const weights = new Int32Array(outputSize * size);
  const raw = new Float64Array(size);
  for (let output = 0; output < outputSize; output += 1) {
    const center = (output + 0.5) * scale;
    const inverse = 1 / filterScale;
    let first = Math.trunc(center - support + 0.5);
    if (first < 0) first = 0;
    let last = Math.trunc(center + support + 0.5);
    if (last > inputSize) last = inputSize;
    const count = last - first;
    let total = 0;
    for (let tap = 0; tap < count; tap += 1) {
      raw[tap] = filter.weight((tap + first - center + 0.5) * inverse);
      total += raw[tap];
    }
    for (let tap = 0; tap < count; tap += 1) {
      const normalised = total !== 0 ? raw[tap] / total : raw[tap];
      weights[output * size + tap] = Math.trunc(
        normalised * (1 << PRECISION_BITS) + (normalised < 0 ? -0.5 : 0.5),
      );
    }
    bounds[output * 2] = first;
    bounds[output * 2 + 1] = count;
  }
  return { bounds, weights, size };
}

const clip8 = (sum: number) => {
  const value = Math.floor(sum / (1 << PRECISION_BITS));
  return value < 0 ? 0 : value > 255 ? 255 : value;
};

/** Resizes an 8-bit image (1 or 3 interleaved channels) as Pillow's Image.resize does. */
export function resizeLikePillow(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outputWidth: number,
  outputHeight: number,
  filterName: 'bilinear' | 'bicubic',
): Uint8Array {
  const filter = FILTERS[filterName];
  let current = pixels;
  let currentWidth = width;
  const half = 1 << (PRECISION_BITS - 1);
  if (outputWidth !== width) {
    const { bounds, weights, size } = coefficients(width, outputWidth, filter);
    const next = new Uint8Array(outputWidth * height * channels);
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < outputWidth; x += 1) {
        const first = bounds[x * 2];
        const count = bounds[x * 2 + 1];
        for (let channel = 0; channel < channels; channel += 1) {
          let sum = half;
          for (let tap = 0; tap < count; tap += 1)
            sum += current[(y * width + first + tap) * channels + channel] * weights[x * size + tap];
          next[(y * outputWidth + x) * channels + channel] = clip8(sum);
        }
      }
    }
    current = next;
    currentWidth = outputWidth;
  }
  if (outputHeight !== height) {
    const { bounds, weights, size } = coefficients(height, outputHeight, filter);
    const next = new Uint8Array(currentWidth * outputHeight * channels);
    const rowLength = currentWidth * channels;
    for (let y = 0; y < outputHeight; y += 1) {
      const first = bounds[y * 2];
      const count = bounds[y * 2 + 1];
      for (let index = 0; index < rowLength; index += 1) {
        let sum = half;
        for (let tap = 0; tap < count; tap += 1)
          sum += current[(first + tap) * rowLength + index] * weights[y * size + tap];
        next[y * rowLength + index] = clip8(sum);
      }
    }
    current = next;
  }
  return current === pixels ? pixels.slice() : current;
}
