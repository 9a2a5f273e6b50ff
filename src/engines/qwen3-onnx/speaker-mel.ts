import { Fft, periodicHann, slaneyMelFilterbank } from '../../audio/fft.ts';

export interface SpeakerMelParameters {
  sampleRate: number;
  nFft: number;
  hop: number;
  window: number;
  mels: number;
  fMin: number;
  fMax: number;
}

export const SPEAKER_MEL_DEFAULTS: SpeakerMelParameters = {
  sampleRate: 24000,
  nFft: 1024,
  hop: 256,
  window: 1024,
  mels: 128,
  fMin: 0,
  fMax: 12000,
};

/** A filter's non-zero span only: each triangle covers a few bins, so this is ~50× less work per frame. */
interface SparseFilter {
  start: number;
  weights: Float64Array;
}

const filterbanks = new Map<string, SparseFilter[]>();

function sparse(filter: Float64Array): SparseFilter {
  let start = filter.findIndex((weight) => weight > 0);
  if (start < 0) start = 0;
  let end = filter.length;
  while (end > start && filter[end - 1] === 0) end -= 1;
  return { start, weights: filter.slice(start, end) };
}

/**
 * The speaker encoder's input, as Qwen3-TTS computes it: reflect-pad (nFft − hop)/2 on each side,
 * periodic Hann STFT without centring, magnitude sqrt(re² + im² + 1e-9), a Slaney mel filterbank,
 * ln(max(x, 1e-5)). Returns [frames × mels], frames = floor(N / hop).
 */
export function speakerMel(
  samples: Float32Array,
  parameters: SpeakerMelParameters = SPEAKER_MEL_DEFAULTS,
): { data: Float32Array; frames: number; mels: number } {
  const { nFft, hop, mels } = parameters;
  const padding = (nFft - hop) / 2;
  if (samples.length <= padding)
    throw new Error(`speaker mel needs more than ${padding} samples, got ${samples.length}`);
  const padded = new Float64Array(samples.length + 2 * padding);
  for (let index = 0; index < padded.length; index += 1) {
    let source = index - padding;
    if (source < 0) source = -source;
    else if (source >= samples.length) source = 2 * (samples.length - 1) - source;
    padded[index] = samples[source];
  }
  const frames = Math.floor((padded.length - nFft) / hop) + 1;
  const key = `${parameters.sampleRate}/${nFft}/${mels}/${parameters.fMin}/${parameters.fMax}`;
  let filterbank = filterbanks.get(key);
  if (!filterbank) {
    filterbank = slaneyMelFilterbank(parameters.sampleRate, nFft, mels, parameters.fMin, parameters.fMax).map(
      sparse,
    );
    filterbanks.set(key, filterbank);
  }
  const window = periodicHann(parameters.window);
  const fft = new Fft(nFft);
  const real = new Float64Array(nFft);
  const imaginary = new Float64Array(nFft);
  const magnitude = new Float64Array(nFft / 2 + 1);
  const data = new Float32Array(frames * mels);
  for (let frame = 0; frame < frames; frame += 1) {
    const start = frame * hop;
    for (let index = 0; index < nFft; index += 1) {
      real[index] = padded[start + index] * window[index];
      imaginary[index] = 0;
    }
    fft.transform(real, imaginary);
    for (let bin = 0; bin < magnitude.length; bin += 1)
      magnitude[bin] = Math.sqrt(real[bin] * real[bin] + imaginary[bin] * imaginary[bin] + 1e-9);
    for (let mel = 0; mel < mels; mel += 1) {
      const { start: first, weights } = filterbank[mel];
      let sum = 0;
      for (let bin = 0; bin < weights.length; bin += 1) sum += weights[bin] * magnitude[first + bin];
      data[frame * mels + mel] = Math.log(Math.max(sum, 1e-5));
    }
  }
  return { data, frames, mels };
}
