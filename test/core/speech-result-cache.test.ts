import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SpeechEvent } from '../../src/core/speech-job.ts';
import { SpeechResultCache } from '../../src/core/speech-result-cache.ts';

/** One audio event of `samples` float samples (4 bytes each). */
const audio = (samples: number): SpeechEvent[] => [
  {
    type: 'audio',
    itemIndex: 0,
    sentenceIndex: 0,
    sentence: 'x',
    samples: new Float32Array(samples),
    sampleRate: 24000,
  },
];

describe('SpeechResultCache', () => {
  it('drops the least recently used answers to stay within its budget', () => {
    const cache = new SpeechResultCache(4000 * 4);
    cache.set('a', audio(1000));
    cache.set('b', audio(1000));
    cache.set('c', audio(1000));
    assert.ok(cache.get('a'), 'a is used again, so b is now the oldest');
    cache.set('d', audio(1000));
    cache.set('e', audio(1000));
    assert.equal(cache.get('b'), undefined);
    assert.ok(cache.get('a'));
    assert.ok(cache.get('e'));
  });

  it('does not keep one answer larger than a quarter of the budget', () => {
    const cache = new SpeechResultCache(4000 * 4);
    cache.set('big', audio(1500));
    assert.equal(cache.get('big'), undefined);
  });

  it('keys by every part of the request', () => {
    assert.notEqual(
      SpeechResultCache.key({ seed: 1, text: 'a' }),
      SpeechResultCache.key({ seed: 2, text: 'a' }),
    );
    assert.equal(
      SpeechResultCache.key({ seed: 1, text: 'a' }),
      SpeechResultCache.key({ seed: 1, text: 'a' }),
    );
  });
});
