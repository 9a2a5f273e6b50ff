import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  BYTE_TO_CHARACTER,
  Qwen2Tokenizer,
  writeSyntheticTokenizer,
} from '../../../src/engines/qwen3-onnx/tokenizer.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

describe('Qwen2 tokenizer', () => {
  let tokenizer: Qwen2Tokenizer;
  before(async () => {
    const directory = temporaryDirectory('tokenizer-');
    await writeSyntheticTokenizer(directory);
    tokenizer = await Qwen2Tokenizer.fromDirectory(directory);
  });

  it('maps bytes as GPT-2 does ("\\n" is Ċ, the space is Ġ)', () => {
    assert.equal(BYTE_TO_CHARACTER[10], 'Ċ');
    assert.equal(BYTE_TO_CHARACTER[32], 'Ġ');
    assert.equal(BYTE_TO_CHARACTER[65], 'A');
  });

  it("gives the real ids of the prompt template's tokens", () => {
    const ids = tokenizer.encode('<|im_start|>assistant\n안녕<|im_end|>\n<|im_start|>assistant\n');
    assert.deepEqual(ids.slice(0, 3), [151644, 77091, 198]);
    assert.deepEqual(ids.slice(-5), [151645, 198, 151644, 77091, 198]);
  });

  it('matches special tokens whole, even inside text', () => {
    const ids = tokenizer.encode('a<|tts_pad|>b');
    assert.deepEqual(ids, [tokenizer.tokenId('a'), 151671, tokenizer.tokenId('b')]);
  });

  it('applies merges by rank', () => {
    assert.deepEqual(tokenizer.encode(' the'), [tokenizer.tokenId('Ġthe')]);
    assert.deepEqual(tokenizer.encode('in'), [tokenizer.tokenId('in')]);
  });

  it('falls back to byte tokens for Korean (three bytes per syllable)', () => {
    assert.equal(tokenizer.encode('안녕').length, 6);
  });

  it('normalizes to NFC first (decomposed Hangul gives the same ids)', () => {
    assert.deepEqual(tokenizer.encode('한국어'.normalize('NFD')), tokenizer.encode('한국어'));
  });

  const roundTrips = [
    '안녕하세요. 면접을 시작합니다!',
    'Hello, world\n  twice',
    '数字 123 と 😀',
    "it's they're",
  ];
  for (const text of roundTrips) {
    it(`decodes what it encodes: ${JSON.stringify(text)}`, () =>
      assert.equal(tokenizer.decode(tokenizer.encode(text)), text.normalize('NFC')));
  }

  it('splits like the Qwen2 pre-tokenizer (digits one by one, contractions apart)', () => {
    const pieces = tokenizer.encode('123').map((id) => tokenizer.decode([id]));
    assert.deepEqual(pieces, ['1', '2', '3']);
    assert.deepEqual(
      tokenizer.encode("it's").map((id) => tokenizer.decode([id])),
      ['i', 't', "'", 's'],
    );
  });

  it('names an unknown token', () => {
    assert.throws(() => tokenizer.tokenId('<|nope|>'), /no token/);
  });
});
