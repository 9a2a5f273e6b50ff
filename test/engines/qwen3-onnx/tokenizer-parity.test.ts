import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { Qwen2Tokenizer } from '../../../src/engines/qwen3-onnx/tokenizer.ts';
import { readQwen3Manifest } from '../../../src/models/qwen3-manifest.ts';
import { officialModel, readGoldens, type Goldens } from '../../support/official-qwen3.ts';

/**
 * Our tokenizer on the real Qwen vocabulary against the official checkpoint's tokenizer (Hugging Face's
 * Qwen2TokenizerFast, as AutoProcessor loads it), on a few hundred varied strings: Korean, digits,
 * English contractions, emoji, whitespace runs, line breaks, special tokens written as text, NFD Hangul.
 */
describe('the Qwen tokenizer against the official one', () => {
  let tokenizer: Qwen2Tokenizer;
  let goldens: Goldens;
  let directory: string;
  before(async () => {
    directory = await officialModel('base_0.6b');
    const manifest = await readQwen3Manifest(directory);
    tokenizer = await Qwen2Tokenizer.fromDirectory(
      path.join(directory, 'tokenizer'),
      manifest.tokenizer.splitPattern,
    );
    goldens = await readGoldens('base_0.6b');
  });

  it('reads the same vocabulary files the export hashed', async () => {
    const manifest = JSON.parse(await readFile(path.join(directory, 'manifest.json'), 'utf8'));
    for (const file of ['vocab.json', 'merges.txt', 'tokenizer_config.json']) {
      const bytes = await readFile(path.join(directory, 'tokenizer', file));
      assert.equal(
        createHash('sha256').update(bytes).digest('hex'),
        manifest.files.sha256[`tokenizer/${file}`],
        file,
      );
    }
  });

  const assertSameIds = (ours: Qwen2Tokenizer, expected: { text: string; ids: number[] }[]) => {
    assert.ok(expected.length >= 300, `${expected.length} strings`);
    const different = expected.filter(({ text, ids }) => {
      const encoded = ours.encode(text);
      return encoded.length !== ids.length || encoded.some((id, index) => id !== ids[index]);
    });
    assert.deepEqual(
      different.slice(0, 5).map(({ text, ids }) => ({ text, official: ids, ours: ours.encode(text) })),
      [],
      `${different.length} of ${expected.length} strings tokenize differently`,
    );
  };

  it('gives the same ids as the official processor for every string', () => {
    assertSameIds(tokenizer, goldens.tokenizer);
  });

  it("gives the same ids with Qwen2's own split pattern (processors without the Mistral fix)", async () => {
    assertSameIds(
      await Qwen2Tokenizer.fromDirectory(path.join(directory, 'tokenizer'), 'qwen2'),
      goldens.tokenizerQwen2Split,
    );
  });

  it('splits CamelCase and keeps contractions whole, as the official processor does here', () => {
    const words = (text: string) => tokenizer.encode(text).map((id) => tokenizer.decode([id]));
    assert.deepEqual(words(' TypeScript'), [' Type', 'Script']);
  });

  it('builds the official prompts', () => {
    for (const entry of goldens.cases) {
      assert.deepEqual(
        tokenizer.encode(`<|im_start|>assistant\n${entry.text}<|im_end|>\n<|im_start|>assistant\n`),
        entry.inputIds,
        entry.name,
      );
      if (entry.referenceIds)
        assert.deepEqual(
          tokenizer.encode(`<|im_start|>assistant\n${goldens.reference.text}<|im_end|>\n`),
          entry.referenceIds,
        );
    }
  });
});
