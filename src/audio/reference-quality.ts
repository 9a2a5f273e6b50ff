/**
 * What makes a reference recording clone badly, measured cheaply: clipping (the clone copies the
 * distortion), a low level, background noise, too little speech, or mostly silence. The findings are
 * advice for the client, not errors: a usable clone can still come from an imperfect recording.
 */
export interface ReferenceQuality {
  /** Seconds of frames loud enough to be speech. */
  speechSeconds: number;
  /** Share of samples at (or within a hair of) full scale. */
  clippedShare: number;
  /** Level of the speech frames, dB relative to full scale. */
  speechLevelDb: number;
  /** Speech level over the quietest frames' level: a rough signal-to-noise ratio. */
  signalToNoiseDb: number;
  warnings: string[];
}

const FRAME_SECONDS = 0.02;

export function assessReference(samples: Float32Array, sampleRate: number): ReferenceQuality {
  const frameLength = Math.max(1, Math.round(sampleRate * FRAME_SECONDS));
  const frameDb: number[] = [];
  let clipped = 0;
  for (let start = 0; start + frameLength <= samples.length; start += frameLength) {
    let energy = 0;
    for (let index = start; index < start + frameLength; index += 1) {
      const value = samples[index];
      energy += value * value;
      if (value >= 0.999 || value <= -0.999) clipped += 1;
    }
    frameDb.push(10 * Math.log10(energy / frameLength + 1e-12));
  }
  if (frameDb.length === 0) frameDb.push(-120);
  const sorted = [...frameDb].sort((a, b) => a - b);
  const loudest = sorted[Math.floor(sorted.length * 0.95)];
  const floor = sorted[Math.floor(sorted.length * 0.1)];
  // Speech: frames within 30 dB of the loud part and clearly above the noise floor.
  const threshold = Math.max(loudest - 30, floor + 6, -60);
  const speech = frameDb.filter((db) => db >= threshold);
  const speechLevelDb =
    speech.length > 0
      ? 10 * Math.log10(speech.reduce((sum, db) => sum + 10 ** (db / 10), 0) / speech.length)
      : -120;
  const quality: ReferenceQuality = {
    speechSeconds: speech.length * FRAME_SECONDS,
    clippedShare: clipped / Math.max(1, samples.length),
    speechLevelDb,
    signalToNoiseDb: speechLevelDb - floor,
    warnings: [],
  };
  const totalSeconds = samples.length / sampleRate;
  const { warnings } = quality;
  if (quality.clippedShare > 0.001)
    warnings.push(
      `the reference clips (${(quality.clippedShare * 100).toFixed(1)} % of samples at full scale): the clone copies the distortion; record at a lower level`,
    );
  if (speechLevelDb < -35)
    warnings.push(
      `the reference is quiet (speech at ${speechLevelDb.toFixed(0)} dBFS): raise the recording level to around −20 dBFS`,
    );
  // Noise shows as quiet frames that are not quiet: pauses in a clean recording sit far below −45 dBFS.
  const noisy = quality.signalToNoiseDb < 15 && floor > -45;
  if (noisy)
    warnings.push(
      `the reference is noisy (about ${quality.signalToNoiseDb.toFixed(0)} dB between speech and background): the clone copies the noise; record somewhere quieter`,
    );
  // Under heavy noise the speech estimate means little; the noise warning says what matters.
  if (noisy) return quality;
  if (quality.speechSeconds < 2)
    warnings.push(
      `the reference holds only ${quality.speechSeconds.toFixed(1)} s of speech: 3–10 s clones a voice better`,
    );
  else if (quality.speechSeconds < totalSeconds * 0.4)
    warnings.push(
      `the reference is mostly silence (${quality.speechSeconds.toFixed(1)} s of speech in ${totalSeconds.toFixed(1)} s): trim it`,
    );
  return quality;
}
