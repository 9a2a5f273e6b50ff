import { periodicHann, slaneyMelFilterbank } from '../../audio/fft.ts';

const SAMPLE_RATE = 16000;
const FFT = 400;
const HOP = 160;
const MELS = 80;
const SEGMENT = 480000;
const FRAMES = 3000;
const BINS = FFT / 2 + 1;

const tables = (() => {
  const cos = new Float64Array(BINS * FFT);
  const sin = new Float64Array(BINS * FFT);
  for (let bin = 0; bin < BINS; bin += 1) {
    for (let index = 0; index < FFT; index += 1) {
      cos[bin * FFT + index] = Math.cos((2 * Math.PI * bin * index) / FFT);
      sin[bin * FFT + index] = Math.sin((2 * Math.PI * bin * index) / FFT);
    }
  }
  return {
    cos,
    sin,
    window: periodicHann(FFT),
    filters: slaneyMelFilterbank(SAMPLE_RATE, FFT, MELS, 0, 8000),
  };
})();

/**
 * Whisper's log-mel input for one 30 s segment, as Hugging Face's WhisperFeatureExtractor computes it:
 * zero-pad to 480000 samples, 400-point periodic-Hann STFT every 160 samples with centred reflect
 * padding, power spectrum, 80 Slaney mel filters (0–8 kHz), log10 clamped to 1e-10, then
 * max(x, max − 8) and (x + 4) / 4. Returns [80 × 3000] (mel-major). 400 is not a power of two, so the
 * transform is a direct DFT on precomputed tables, and frames past the end of the audio are known zeros.
 */
export function whisperLogMel(segment: Float32Array): Float32Array {
  const padded = new Float64Array(SEGMENT + FFT);
  const length = Math.min(segment.length, SEGMENT);
  for (let index = 0; index < SEGMENT; index += 1)
    padded[index + FFT / 2] = index < length ? segment[index] : 0;
  // Centred reflect padding of 200 on both sides (the right side reflects the zero padding).
  for (let index = 1; index <= FFT / 2; index += 1) {
    padded[FFT / 2 - index] = padded[FFT / 2 + index];
    padded[FFT / 2 + SEGMENT - 1 + index] = padded[FFT / 2 + SEGMENT - 1 - index];
  }
  const logMel = new Float32Array(MELS * FRAMES);
  const power = new Float64Array(BINS);
  const frame = new Float64Array(FFT);
  const lastAudible = Math.min(FRAMES, Math.ceil((length + FFT) / HOP) + 1);
  let maximum = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < FRAMES; index += 1) {
    if (index < lastAudible) {
      for (let sample = 0; sample < FFT; sample += 1)
        frame[sample] = padded[index * HOP + sample] * tables.window[sample];
      for (let bin = 0; bin < BINS; bin += 1) {
        let re = 0;
        let im = 0;
        const offset = bin * FFT;
        for (let sample = 0; sample < FFT; sample += 1) {
          re += frame[sample] * tables.cos[offset + sample];
          im -= frame[sample] * tables.sin[offset + sample];
        }
        power[bin] = re * re + im * im;
      }
    } else power.fill(0);
    for (let mel = 0; mel < MELS; mel += 1) {
      const weights = tables.filters[mel];
      let sum = 0;
      for (let bin = 0; bin < BINS; bin += 1) sum += weights[bin] * power[bin];
      const value = Math.log10(Math.max(sum, 1e-10));
      logMel[mel * FRAMES + index] = value;
      if (value > maximum) maximum = value;
    }
  }
  for (let index = 0; index < logMel.length; index += 1)
    logMel[index] = (Math.max(logMel[index], maximum - 8) + 4) / 4;
  return logMel;
}

/**
 * The audio window of each video frame (MuseTalk's audio processor at 25 fps): Whisper frame features
 * [frames × states × 384] are zero-padded by 4 frames on the left and 12 on the right; video frame i
 * takes frames 2i … 2i+9, laid out as 50 rows (row = time × 5 + state) of 384.
 */
export function audioWindows(
  hidden: Float32Array,
  whisperFrames: number,
  states: number,
  feature: number,
  videoFrames: number,
): Float32Array {
  const left = 4;
  const rowSize = states * feature;
  const windows = new Float32Array(videoFrames * 10 * rowSize);
  for (let frame = 0; frame < videoFrames; frame += 1) {
    for (let step = 0; step < 10; step += 1) {
      const source = 2 * frame + step - left;
      if (source < 0 || source >= whisperFrames) continue;
      windows.set(hidden.subarray(source * rowSize, (source + 1) * rowSize), (frame * 10 + step) * rowSize);
    }
  }
  return windows;
}

export const WHISPER_SAMPLE_RATE = SAMPLE_RATE;
export const WHISPER_SEGMENT_SAMPLES = SEGMENT;
