import type { SeededRandom } from './random.ts';

export interface TalkerSamplerOptions {
  vocabSize: number;
  eosId: number;
  /** Ids from here to vocabSize are control codes, suppressed except EOS. */
  suppressFrom: number;
  minNewTokens: number;
  repetitionPenalty: number;
  temperature: number;
  topK: number;
  topP: number;
  doSample: boolean;
  random: SeededRandom;
}

/**
 * Chooses each frame's first code (c0) from the talker's logits, in Hugging Face's processor order:
 * repetition penalty over the c0 tokens generated so far, min_new_tokens (no EOS before), control
 * codes suppressed except EOS; then, when sampling, temperature, top-k, top-p and a seeded draw.
 * Greedy is the argmax of the processed logits. Buffers are reused: this runs every 80 ms frame.
 */
export class TalkerSampler {
  private readonly history = new Set<number>();
  private readonly work: Float64Array;
  private readonly order: Int32Array;
  private count = 0;

  constructor(private readonly options: TalkerSamplerOptions) {
    this.work = new Float64Array(options.vocabSize);
    this.order = new Int32Array(options.vocabSize);
  }

  get generatedCount(): number {
    return this.count;
  }

  next(logits: Float32Array): number {
    const { vocabSize, eosId, suppressFrom, repetitionPenalty } = this.options;
    const work = this.work;
    for (let index = 0; index < vocabSize; index += 1) work[index] = logits[index];
    if (repetitionPenalty !== 1) {
      for (const token of this.history)
        work[token] = work[token] < 0 ? work[token] * repetitionPenalty : work[token] / repetitionPenalty;
    }
    for (let index = suppressFrom; index < vocabSize; index += 1)
      if (index !== eosId) work[index] = Number.NEGATIVE_INFINITY;
    if (this.count < this.options.minNewTokens) work[eosId] = Number.NEGATIVE_INFINITY;
    const token = this.options.doSample && this.options.temperature > 0 ? this.sample() : argmax(work);
    this.history.add(token);
    this.count += 1;
    return token;
  }

  private sample(): number {
    const { temperature, topK, topP, random } = this.options;
    const work = this.work;
    const size = work.length;
    for (let index = 0; index < size; index += 1) work[index] /= temperature;
    // Keep the top k (ties with the k-th value included), as TopKLogitsWarper does.
    let count = 0;
    for (let index = 0; index < size; index += 1)
      if (work[index] !== Number.NEGATIVE_INFINITY) this.order[count++] = index;
    const candidates = this.order.subarray(0, count);
    candidates.sort((a, b) => work[b] - work[a]);
    let kept = Math.min(count, Math.max(1, topK));
    const threshold = work[candidates[kept - 1]];
    while (kept < count && work[candidates[kept]] === threshold) kept += 1;
    const maximum = work[candidates[0]];
    let total = 0;
    const probabilities = new Float64Array(kept);
    for (let index = 0; index < kept; index += 1) {
      probabilities[index] = Math.exp(work[candidates[index]] - maximum);
      total += probabilities[index];
    }
    // Nucleus: the smallest prefix whose probability reaches top_p (always at least one token).
    if (topP < 1) {
      let cumulative = 0;
      let nucleus = 0;
      while (nucleus < kept) {
        cumulative += probabilities[nucleus] / total;
        nucleus += 1;
        if (cumulative >= topP) break;
      }
      kept = nucleus;
      total = 0;
      for (let index = 0; index < kept; index += 1) total += probabilities[index];
    }
    let draw = random.nextFloat() * total;
    for (let index = 0; index < kept; index += 1) {
      draw -= probabilities[index];
      if (draw <= 0) return candidates[index];
    }
    return candidates[kept - 1];
  }
}

function argmax(values: Float64Array): number {
  let best = 0;
  for (let index = 1; index < values.length; index += 1) if (values[index] > values[best]) best = index;
  return best;
}

/** Uniform noise for the fused code predictor; a constant 0.5 gives every logit the same Gumbel offset: greedy. */
export function fillPredictorNoise(target: Float32Array, random: SeededRandom, doSample: boolean): void {
  if (doSample) random.fillUniform(target);
  else target.fill(0.5);
}
