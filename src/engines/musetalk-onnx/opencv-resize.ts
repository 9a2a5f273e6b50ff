/**
 * cv2.resize for 8-bit images, as MuseTalk calls it: INTER_LANCZOS4 for the 256 × 256 face crop and
 * INTER_LINEAR (the default) for the generated face put back to the face box. OpenCV computes both in
 * fixed point with 11-bit coefficients (INTER_RESIZE_COEF_BITS): horizontally into 32-bit sums,
 * then vertically with rounding. Out-of-range taps repeat the edge pixel. Reimplemented here because
 * no npm library resamples the way OpenCV does, and the crop feeds the VAE: its pixels matter.
 */

const COEFFICIENT_BITS = 11;
const COEFFICIENT_SCALE = 1 << COEFFICIENT_BITS;

interface Taps {
  /** First source index per output position (before clamping), and the per-tap fixed-point weights. */
  start: Int32Array;
  weights: Int16Array;
  size: number;
}

/** OpenCV's interpolateLanczos4: 8 weights for offsets −3 … +4, normalised to sum 1. */
function lanczos4Weights(fraction: number, target: Float32Array): void {
  const s45 = Math.SQRT1_2;
  const cs = [
    [1, 0],
    [-s45, -s45],
    [0, 1],
    [s45, -s45],
    [-1, 0],
    [s45, s45],
    [0, -1],
    [-s45, s45],
  ];
  const y0 = -(fraction + 3) * Math.PI * 0.25;
  const s0 = Math.sin(y0);
  const c0 = Math.cos(y0);
  let sum = 0;
  for (let index = 0; index < 8; index += 1) {
    const distance = Math.fround(fraction + 3 - index);
    if (Math.abs(distance) >= 1e-6) {
      const y = -distance * Math.PI * 0.25;
      target[index] = Math.fround((cs[index][0] * s0 + cs[index][1] * c0) / (y * y));
    } else target[index] = 1e30;
    sum = Math.fround(sum + target[index]);
  }
  const inverse = Math.fround(1 / sum);
  for (let index = 0; index < 8; index += 1) target[index] = Math.fround(target[index] * inverse);
}

function taps(inputSize: number, outputSize: number, kind: 'lanczos4' | 'linear'): Taps {
  const size = kind === 'lanczos4' ? 8 : 2;
  const scale = inputSize / outputSize;
  const start = new Int32Array(outputSize);
  const weights = new Int16Array(outputSize * size);
  const buffer = new Float32Array(size);
  for (let output = 0; output < outputSize; output += 1) {
    let position = Math.fround((output + 0.5) * scale - 0.5);
    let first = Math.floor(position);
    position = Math.fround(position - first);
    if (kind === 'linear') {
      // OpenCV pins the linear taps at the edges (the cubic and Lanczos ones are clamped per tap).
      if (first < 0) {
        position = 0;
        first = 0;
      }
      if (first >= inputSize - 1) {
        position = 0;
        first = inputSize - 1;
      }
      buffer[0] = Math.fround(1 - position);
      buffer[1] = position;
    } else lanczos4Weights(position, buffer);
    start[output] = first - (size / 2 - 1);
    for (let tap = 0; tap < size; tap += 1)
      weights[output * size + tap] = saturate16(roundHalfEven(Math.fround(buffer[tap] * COEFFICIENT_SCALE)));
  }
  return { start, weights, size };
}

const clampIndex = (index: number, size: number) => (index < 0 ? 0 : index >= size ? size - 1 : index);

/**
 * Resizes an 8-bit image (`channels` interleaved) as cv2.resize does. For INTER_LINEAR the vertical
 * pass uses the rounding of OpenCV's SIMD path (the path x86 and ARM builds take for all but a few
 * trailing pixels of a row).
 */
export function resizeLikeOpenCv(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outputWidth: number,
  outputHeight: number,
  kind: 'lanczos4' | 'linear',
): Uint8Array {
  if (width === outputWidth && height === outputHeight) return pixels.slice();
  const horizontal = taps(width, outputWidth, kind);
  const vertical = taps(height, outputHeight, kind);
  // Horizontal pass over every source row: 32-bit sums with 11 fractional bits.
  const rows = new Int32Array(height * outputWidth * channels);
  for (let y = 0; y < height; y += 1) {
    const rowIn = y * width * channels;
    const rowOut = y * outputWidth * channels;
    for (let x = 0; x < outputWidth; x += 1) {
      for (let channel = 0; channel < channels; channel += 1) {
        let sum = 0;
        for (let tap = 0; tap < horizontal.size; tap += 1) {
          const source = clampIndex(horizontal.start[x] + tap, width);
          sum += pixels[rowIn + source * channels + channel] * horizontal.weights[x * horizontal.size + tap];
        }
        rows[rowOut + x * channels + channel] = sum;
      }
    }
  }
  const output = new Uint8Array(outputWidth * outputHeight * channels);
  const rowLength = outputWidth * channels;
  for (let y = 0; y < outputHeight; y += 1) {
    const sources = Array.from({ length: vertical.size }, (_tap, tap) =>
      clampIndex(vertical.start[y] + tap, height),
    );
    const weights = vertical.weights.subarray(y * vertical.size, (y + 1) * vertical.size);
    for (let index = 0; index < rowLength; index += 1) {
      let value: number;
      if (kind === 'linear') {
        // VResizeLinearVec_32s8u: (((S0 >> 4) · b0) >> 16) + (((S1 >> 4) · b1) >> 16), then (+2) >> 2.
        const first = saturate16(rows[sources[0] * rowLength + index] >> 4);
        const second = saturate16(rows[sources[1] * rowLength + index] >> 4);
        value = (((first * weights[0]) >> 16) + ((second * weights[1]) >> 16) + 2) >> 2;
      } else {
        let sum = 0;
        for (let tap = 0; tap < vertical.size; tap += 1)
          sum += rows[sources[tap] * rowLength + index] * weights[tap];
        // 22 fractional bits; the sum can pass 2^31, so divide rather than shift.
        value = Math.floor((sum + (1 << 21)) / (1 << 22));
      }
      output[y * rowLength + index] = value < 0 ? 0 : value > 255 ? 255 : value;
    }
  }
  return output;
}

/** cvRound: to nearest, ties to even (what lrint does in the default rounding mode). */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const difference = value - floor;
  if (difference !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

function saturate16(value: number): number {
  return value < -32768 ? -32768 : value > 32767 ? 32767 : value;
}
