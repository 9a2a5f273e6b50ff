import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinSamples } from '../../src/audio/join-samples.ts';

describe('joinSamples', () => {
  it('joins pieces in order into a new array, empty pieces included', () => {
    const first = Float32Array.of(1, 2);
    const joined = joinSamples([first, new Float32Array(0), Float32Array.of(3)]);
    assert.deepEqual(joined, Float32Array.of(1, 2, 3));
    joined[0] = 9;
    assert.equal(first[0], 1, 'a copy, not a view of a piece');
    assert.deepEqual(joinSamples([]), new Float32Array(0));
  });
});
