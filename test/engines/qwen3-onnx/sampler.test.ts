import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../../../src/engines/qwen3-onnx/random.ts';
import {
  fillPredictorNoise,
  TalkerSampler,
  type TalkerSamplerOptions,
} from '../../../src/engines/qwen3-onnx/sampler.ts';

const base = (overrides: Partial<TalkerSamplerOptions> = {}): TalkerSamplerOptions => ({
  vocabSize: 8,
  eosId: 6,
  suppressFrom: 5,
  minNewTokens: 2,
  repetitionPenalty: 1,
  temperature: 1,
  topK: 50,
  topP: 1,
  doSample: false,
  random: new SeededRandom(1),
  ...overrides,
});
const logits = (values: number[]) => Float32Array.from(values);

describe('SeededRandom', () => {
  it('repeats for a seed and differs between seeds, always inside (0, 1)', () => {
    const draw = (seed: number) =>
      Array.from(
        { length: 1000 },
        (() => {
          const random = new SeededRandom(seed);
          return () => random.nextFloat();
        })(),
      );
    const a = draw(42);
    assert.deepEqual(a, draw(42));
    assert.notDeepEqual(a, draw(43));
    assert.ok(a.every((value) => value > 0 && value < 1));
    const mean = a.reduce((sum, value) => sum + value, 0) / a.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05);
  });
});

describe('TalkerSampler', () => {
  it('is the argmax when greedy', () => {
    assert.equal(new TalkerSampler(base()).next(logits([0, 3, 1, 0, 0, 0, 0, 0])), 1);
  });
  it('blocks EOS before min_new_tokens, then allows it', () => {
    const sampler = new TalkerSampler(base());
    const eosFirst = logits([0, 1, 0, 0, 0, 0, 9, 0]);
    assert.equal(sampler.next(eosFirst), 1);
    assert.equal(sampler.next(eosFirst), 1);
    assert.equal(sampler.next(eosFirst), 6);
  });
  it('suppresses control codes except EOS', () => {
    const sampler = new TalkerSampler(base({ minNewTokens: 0 }));
    assert.equal(sampler.next(logits([0, 1, 0, 0, 0, 0, -1, 9])), 1, 'id 7 is a control code');
  });
  it('applies the repetition penalty to generated tokens only (÷ positive, × negative)', () => {
    const sampler = new TalkerSampler(base({ repetitionPenalty: 2, minNewTokens: 0 }));
    assert.equal(sampler.next(logits([0, 3, 2, 0, 0, 0, 0, 0])), 1);
    assert.equal(sampler.next(logits([0, 3, 2, 0, 0, 0, 0, 0])), 2, '3 / 2 < 2');
    const negative = new TalkerSampler(base({ repetitionPenalty: 2, minNewTokens: 0 }));
    assert.equal(negative.next(logits([-1, -2, -3, -9, -9, -9, -9, -9])), 0);
    assert.equal(negative.next(logits([-1, -1.5, -3, -9, -9, -9, -9, -9])), 1, '-1 × 2 < -1.5');
  });
  it('keeps to the top k (ties included) when sampling', () => {
    const sampler = new TalkerSampler(base({ doSample: true, topK: 2, minNewTokens: 0 }));
    const seen = new Set<number>();
    for (let draw = 0; draw < 500; draw += 1) seen.add(sampler.next(logits([5, 5, 5, 1, 0, 0, 0, 0])));
    assert.deepEqual([...seen].sort(), [0, 1, 2], 'the three tied values stay');
  });
  it('keeps to the nucleus with top_p', () => {
    const sampler = new TalkerSampler(base({ doSample: true, topP: 0.5, minNewTokens: 0 }));
    for (let draw = 0; draw < 200; draw += 1) assert.equal(sampler.next(logits([5, 1, 1, 1, 1, 0, 0, 0])), 0);
  });
  it('keeps the most likely token with top_p 0, as the warper keeps at least one', () => {
    const sampler = new TalkerSampler(base({ doSample: true, topP: 0, minNewTokens: 0 }));
    for (let draw = 0; draw < 50; draw += 1) assert.equal(sampler.next(logits([1, 4, 2, 1, 1, 0, 0, 0])), 1);
  });
  it('samples in proportion to softmax(logits / temperature)', () => {
    const sampler = new TalkerSampler(base({ doSample: true, minNewTokens: 0, random: new SeededRandom(9) }));
    const counts = [0, 0, 0];
    const draws = 6000;
    for (let draw = 0; draw < draws; draw += 1)
      counts[sampler.next(logits([Math.log(1), Math.log(2), Math.log(3), -50, -50, -50, -50, -50]))] += 1;
    [1 / 6, 2 / 6, 3 / 6].forEach((expected, index) =>
      assert.ok(Math.abs(counts[index] / draws - expected) < 0.03, `${index}: ${counts[index]}`),
    );
  });
  it('gives the same sequence for the same seed', () => {
    const run = (seed: number) => {
      const sampler = new TalkerSampler(
        base({ doSample: true, minNewTokens: 0, random: new SeededRandom(seed) }),
      );
      return Array.from({ length: 50 }, () => sampler.next(logits([1, 1, 1, 1, 1, -9, -9, -9])));
    };
    assert.deepEqual(run(3), run(3));
    assert.notDeepEqual(run(3), run(4));
  });
});

describe('predictor noise', () => {
  it('is uniform when sampling and a constant 0.5 when greedy', () => {
    const noise = new Float32Array(100);
    fillPredictorNoise(noise, new SeededRandom(1), false);
    assert.ok(noise.every((value) => value === 0.5));
    fillPredictorNoise(noise, new SeededRandom(1), true);
    assert.ok(new Set(noise).size > 90);
  });
});
