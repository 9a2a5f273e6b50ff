/**
 * cv2.GaussianBlur(mask, (k, k), 0) on an 8-bit single-channel image, as MuseTalk feathers its blending
 * mask: OpenCV's kernel for that size (sigma = 0.3·((k − 1)/2 − 1) + 0.8, and its fixed binomial
 * kernels for k ≤ 7, where k = 1 leaves the image as it is), applied separably with the default
 * BORDER_REFLECT_101. sharp's blur(σ) cuts its kernel at about 1.8σ where OpenCV's reaches about 3σ,
 * which gave a visibly harder seam. 8-bit images are blurred as OpenCV's bit-exact path does: the
 * kernel in 8-bit fixed point (rounded with error diffusion, the centre taking what is left), rows
 * summed exactly, columns in 16 fractional bits, rounded once at the end.
 */

const SMALL_KERNELS: Record<number, number[]> = {
  1: [1],
  3: [0.25, 0.5, 0.25],
  5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
  7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
};

/** cv::getGaussianKernel(size, sigma ≤ 0). */
export function openCvGaussianKernel(size: number): Float64Array {
  if (size % 2 !== 1 || size < 1)
    throw new Error(`Gaussian kernel size must be odd and positive, got ${size}`);
  const small = SMALL_KERNELS[size];
  if (small) return Float64Array.from(small);
  const sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8;
  const kernel = new Float64Array(size);
  let sum = 0;
  for (let index = 0; index < size; index += 1) {
    const offset = index - (size - 1) / 2;
    kernel[index] = Math.exp(-(offset * offset) / (2 * sigma * sigma));
    sum += kernel[index];
  }
  for (let index = 0; index < size; index += 1) kernel[index] /= sum;
  return kernel;
}

/** BORDER_REFLECT_101: …, 2, 1 | 0, 1, 2, … , n−1 | n−2, … */
function reflect101(index: number, size: number): number {
  if (size === 1) return 0;
  let position = index;
  while (position < 0 || position >= size) {
    if (position < 0) position = -position;
    if (position >= size) position = 2 * size - 2 - position;
  }
  return position;
}

/** getGaussianKernelFixedPoint_ED: 8 fractional bits, error diffusion from the edges, exact sum. */
function fixedPointKernel(kernel: Float64Array): Int32Array {
  const size = kernel.length;
  const half = (size - 1) / 2;
  const fixed = new Int32Array(size);
  let error = 0;
  let sum = 0;
  for (let index = 0; index < half; index += 1) {
    const adjusted = kernel[index] * 256 + error;
    const value = roundHalfEven(adjusted);
    error = adjusted - value;
    fixed[index] = value;
    fixed[size - 1 - index] = value;
    sum += value;
  }
  fixed[half] = 256 - 2 * sum;
  return fixed;
}

function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  if (value - floor !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

export function gaussianBlurLikeOpenCv(
  pixels: Uint8Array,
  width: number,
  height: number,
  size: number,
): Uint8Array {
  if (size === 1) return pixels.slice();
  const kernel = fixedPointKernel(openCvGaussianKernel(size));
  const radius = (size - 1) / 2;
  const rows = new Int32Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let sum = 0;
      for (let tap = 0; tap < size; tap += 1)
        sum += pixels[y * width + reflect101(x + tap - radius, width)] * kernel[tap];
      rows[y * width + x] = sum;
    }
  }
  const output = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let sum = 0;
      for (let tap = 0; tap < size; tap += 1)
        sum += rows[reflect101(y + tap - radius, height) * width + x] * kernel[tap];
      output[y * width + x] = Math.min(255, (sum + 32768) >> 16);
    }
  }
  return output;
}
