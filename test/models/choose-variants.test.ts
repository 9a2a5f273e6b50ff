import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseVariants } from '../../src/models/pull.ts';

describe('chooseVariants (models pull --dtype / TTS_DTYPE)', () => {
  it('installs the quantized Qwen3 variants asked for', () => {
    assert.deepEqual(chooseVariants('int4', 'base_0.6b'), ['int4']);
    assert.deepEqual(chooseVariants('int8', 'base_1.7b'), ['int8']);
  });

  it('gives MuseTalk, which has no quantized variants, float32 under int8 / int4', () => {
    assert.deepEqual(chooseVariants('int4', 'musetalk'), ['float32']);
    assert.deepEqual(chooseVariants('int8', 'musetalk'), ['float32']);
  });

  it('names every variant it knows when one does not exist', () => {
    assert.throws(
      () => chooseVariants('bfloat16', 'base_0.6b'),
      /float32 \(CPU\), float16 \(GPU\), int8 or int4/,
    );
  });
});
