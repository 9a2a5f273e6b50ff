/** An in-place radix-2 FFT with precomputed twiddles and bit reversal, for power-of-two sizes. */
export class Fft {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly reversed: Uint32Array;

  constructor(readonly size: number) {
    if (size < 2 || (size & (size - 1)) !== 0)
      throw new Error(`FFT size must be a power of two, not ${size}`);
    this.cos = new Float64Array(size / 2);
    this.sin = new Float64Array(size / 2);
    for (let index = 0; index < size / 2; index += 1) {
      this.cos[index] = Math.cos((2 * Math.PI * index) / size);
      this.sin[index] = -Math.sin((2 * Math.PI * index) / size);
    }
    this.reversed = new Uint32Array(size);
    const bits = Math.log2(size);
    for (let index = 0; index < size; index += 1) {
      let reversed = 0;
      for (let bit = 0; bit < bits; bit += 1) reversed |= ((index >> bit) & 1) << (bits - 1 - bit);
      this.reversed[index] = reversed;
    }
  }

  /** Transforms (real, imaginary) in place. */
  transform(real: Float64Array, imaginary: Float64Array): void {
    const size = this.size;
    for (let index = 0; index < size; index += 1) {
      const target = this.reversed[index];
      if (target > index) {
        [real[index], real[target]] = [real[target], real[index]];
        [imaginary[index], imaginary[target]] = [imaginary[target], imaginary[index]];
      }
    }
    for (let length = 2; length <= size; length *= 2) {
      const half = length / 2;
      const step = size / length;
      for (let start = 0; start < size; start += length) {
        for (let offset = 0; offset < half; offset += 1) {
          const twiddleReal = this.cos[offset * step];
          const twiddleImaginary = this.sin[offset * step];
          const even = start + offset;
          const odd = even + half;
          const oddReal = real[odd] * twiddleReal - imaginary[odd] * twiddleImaginary;
          const oddImaginary = real[odd] * twiddleImaginary + imaginary[odd] * twiddleReal;
          real[odd] = real[even] - oddReal;
          imaginary[odd] = imaginary[even] - oddImaginary;
          real[even] += oddReal;
          imaginary[even] += oddImaginary;
        }
      }
    }
  }
}

/** A periodic Hann window (torch.hann_window(periodic=True)). */
export function periodicHann(size: number): Float64Array {
  const window = new Float64Array(size);
  for (let index = 0; index < size; index += 1)
    window[index] = 0.5 - 0.5 * Math.cos((2 * Math.PI * index) / size);
  return window;
}

/** librosa's mel scale (htk=False, the Slaney formula). */
export function hertzToMel(frequency: number): number {
  const linear = frequency / (200 / 3);
  if (frequency < 1000) return linear;
  return 15 + Math.log(frequency / 1000) / (Math.log(6.4) / 27);
}

export function melToHertz(mel: number): number {
  if (mel < 15) return (200 / 3) * mel;
  return 1000 * Math.exp((Math.log(6.4) / 27) * (mel - 15));
}

/** librosa.filters.mel(norm='slaney'): [mels][bins] triangles, area-normalised. */
export function slaneyMelFilterbank(
  sampleRate: number,
  fftSize: number,
  mels: number,
  minimum: number,
  maximum: number,
): Float64Array[] {
  const bins = fftSize / 2 + 1;
  const frequencies = Array.from({ length: bins }, (_value, index) => (index * sampleRate) / fftSize);
  const low = hertzToMel(minimum);
  const high = hertzToMel(maximum);
  const points = Array.from({ length: mels + 2 }, (_value, index) =>
    melToHertz(low + ((high - low) * index) / (mels + 1)),
  );
  return Array.from({ length: mels }, (_value, mel) => {
    const weights = new Float64Array(bins);
    const left = points[mel];
    const center = points[mel + 1];
    const right = points[mel + 2];
    const norm = 2 / (right - left);
    for (let bin = 0; bin < bins; bin += 1) {
      const rising = (frequencies[bin] - left) / (center - left);
      const falling = (right - frequencies[bin]) / (right - center);
      weights[bin] = Math.max(0, Math.min(rising, falling)) * norm;
    }
    return weights;
  });
}
