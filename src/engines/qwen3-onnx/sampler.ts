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
  /** Sample from the processed scores; false: greedy (the processors before the warpers still apply). */
  doSample: boolean;
  random: SeededRandom;
}

/**
 * Chooses each frame's first code (c0) from the talker's logits, in Hugging Face's processor order:
 * repetition penalty over the c0 tokens generated so far, min_new_tokens (no EOS before), control
 * codes suppressed except EOS; then, when sampling, temperature, top-k and top-p, and a seeded draw.
 * Greedy is the argmax of the processed scores. Buffers are reused: this runs every 80 ms frame.
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

  /**
   * The processed scores for the next token (what Hugging Face's `generate` reports as `scores`):
   * −Infinity where a token cannot be chosen. The returned buffer is reused by the next call.
   */
  scores(logits: Float32Array): Float64Array {
    const { vocabSize, eosId, suppressFrom, repetitionPenalty, doSample } = this.options;
    const work = this.work;
    for (let index = 0; index < vocabSize; index += 1) work[index] = logits[index];
    if (repetitionPenalty !== 1) {
      for (const token of this.history)
        work[token] = work[token] < 0 ? work[token] * repetitionPenalty : work[token] / repetitionPenalty;
    }
    if (this.count < this.options.minNewTokens) work[eosId] = Number.NEGATIVE_INFINITY;
    for (let index = suppressFrom; index < vocabSize; index += 1)
      if (index !== eosId) work[index] = Number.NEGATIVE_INFINITY;
    if (doSample) this.warp();
    return work;
  }

  /** Chooses the next token and records it in the history. */
  next(logits: Float32Array): number {
    const scores = this.scores(logits);
    const token = this.options.doSample ? this.draw(scores) : argmax(scores);
    this.accept(token);
    return token;
  }

  /** Records a token chosen elsewhere (the history feeds the repetition penalty and min_new_tokens). */
  accept(token: number): void {
    this.history.add(token);
    this.count += 1;
  }

  /** Temperature, then top-k (ties with the k-th value kept), then top-p: the removed become −Infinity. */
  private warp(): void {
    const { temperature, topK, topP } = this.options;
    const work = this.work;
    let count = 0;
    for (let index = 0; index < work.length; index += 1) {
      work[index] /= temperature;
      if (work[index] !== Number.NEGATIVE_INFINITY) this.order[count++] = index;
    }
    if (count === 0) return;
    const candidates = this.order.subarray(0, count);
    candidates.sort((a, b) => work[b] - work[a]);
    let kept = Math.min(count, Math.max(1, topK));
    const threshold = work[candidates[kept - 1]];
    while (kept < count && work[candidates[kept]] === threshold) kept += 1;
    // Nucleus: a token stays while the probability of those before it is below top_p (TopPLogitsWarper).
    if (topP < 1) {
      const maximum = work[candidates[0]];
      let total = 0;
      for (let index = 0; index < kept; index += 1) total += Math.exp(work[candidates[index]] - maximum);
      let before = 0;
      let nucleus = 0;
      while (nucleus < kept && before < topP) {
        before += Math.exp(work[candidates[nucleus]] - maximum) / total;
        nucleus += 1;
      }
      // top_p 0 still keeps the most likely token (min_tokens_to_keep=1 in the warper).
      kept = Math.max(1, nucleus);
    }
    for (let index = kept; index < count; index += 1) work[candidates[index]] = Number.NEGATIVE_INFINITY;
  }

  /** A seeded draw from softmax(scores). */
  private draw(scores: Float64Array): number {
    let maximum = Number.NEGATIVE_INFINITY;
    for (const score of scores) if (score > maximum) maximum = score;
    let total = 0;
    for (const score of scores) total += Math.exp(score - maximum);
    let remaining = this.options.random.nextFloat() * total;
    let last = 0;
    for (let index = 0; index < scores.length; index += 1) {
      if (scores[index] === Number.NEGATIVE_INFINITY) continue;
      last = index;
      remaining -= Math.exp(scores[index] - maximum);
      if (remaining <= 0) return index;
    }
    return last;
  }
}

/** Softmax of processed scores (−Infinity becomes 0): the distribution a token is drawn from. */
export function probabilitiesOf(scores: Float64Array): Float64Array {
  let maximum = Number.NEGATIVE_INFINITY;
  for (const score of scores) if (score > maximum) maximum = score;
  const probabilities = new Float64Array(scores.length);
  let total = 0;
  for (let index = 0; index < scores.length; index += 1) {
    probabilities[index] = Math.exp(scores[index] - maximum);
    total += probabilities[index];
  }
  for (let index = 0; index < scores.length; index += 1) probabilities[index] /= total;
  return probabilities;
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
