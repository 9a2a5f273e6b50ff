import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { generateSpeech } from '../../../src/engines/qwen3-onnx/generate.ts';
import { KV_BLOCK, KvCache } from '../../../src/engines/qwen3-onnx/kv-cache.ts';
import { Qwen3ModelRuntime } from '../../../src/engines/qwen3-onnx/model-runtime.ts';
import { readQwen3Manifest } from '../../../src/models/qwen3-manifest.ts';
import { officialModel } from '../../support/official-qwen3.ts';
import { syntheticQwen3 } from '../../support/synthetic-models.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxTypes };
const CPU = { device: { kind: 'cpu' as const }, threads: 1 };

/**
 * Every node that reads a talker cache input, by op type, and the new keys' output dims. The cache is
 * read in place only if nothing but MatMul (which reads it as a batch of blocks) and Shape touches it:
 * a Gather, Slice, Split, Concat, Transpose or Cast of it would copy the whole cache each step.
 */
function cacheReaders(file: string): { readers: Set<string>; inputs: number; newKeys: (string | number)[] } {
  const graph = onnx.ModelProto.decode(readFileSync(file)).graph!;
  const cacheInputs = new Set(
    graph
      .input!.map((input) => input.name!)
      .filter((name) => name.startsWith('past_keys_') || name.startsWith('past_values_')),
  );
  const readers = new Set<string>();
  for (const node of graph.node!)
    if (node.input!.some((name) => cacheInputs.has(name))) readers.add(node.opType!);
  const output = graph.output!.find((value) => value.name === 'new_keys')!;
  const newKeys = output.type!.tensorType!.shape!.dim!.map((dim) => dim.dimParam || Number(dim.dimValue));
  return { readers, inputs: cacheInputs.size, newKeys };
}

async function tinyVoice(model: Qwen3ModelRuntime) {
  const tone = Float32Array.from({ length: 24000 }, (_value, index) => 0.1 * Math.sin(index / 20));
  const { codes, frames } = await model.encodeReference(tone);
  return {
    referenceCodes: codes,
    referenceFrames: frames,
    speakerEmbedding: await model.speakerEmbedding(tone),
    referenceText: 'a reference',
    xVectorOnly: false,
  };
}

const greedy = {
  language: 'english',
  seed: 3,
  talker: { doSample: false, temperature: 1, topK: 1, topP: 1, repetitionPenalty: 1 },
  subtalker: { doSample: false, temperature: 1, topK: 1, topP: 1 },
  streaming: true,
};

describe('the talker reads its KV cache in place', () => {
  let synthetic: string;
  before(async () => {
    synthetic = await syntheticQwen3();
  });
  after(() => rmSync(synthetic, { recursive: true, force: true }));

  it('has graphs that only multiply by the cache and return the new positions only', async () => {
    const graphs = [
      path.join(synthetic, 'float32', 'talker.onnx'),
      ...(await Promise.all(
        (['base_0.6b', 'base_1.7b'] as const).map(async (shape) =>
          path.join(await officialModel(shape), 'float32', 'talker.onnx'),
        ),
      )),
    ];
    for (const file of graphs) {
      const { readers, inputs, newKeys } = cacheReaders(file);
      assert.ok(inputs >= 4, `${file}: a cache input pair per layer`);
      assert.deepEqual(
        [...readers].filter((op) => op !== 'MatMul' && op !== 'Shape'),
        [],
        `${file}: only MatMul and Shape read the cache`,
      );
      assert.equal(newKeys[2], 'sequence', `${file}: new_keys holds the new positions only`);
    }
  });

  it('reuses one set of buffers across requests, fed by used blocks only', async () => {
    const model = await Qwen3ModelRuntime.load(synthetic, 'float32', CPU);
    try {
      const voice = await tinyVoice(model);
      const request = { ...greedy, text: 'Hello there.', maxNewTokens: 6 };
      const run = async () => {
        let codes: Int32Array | undefined;
        for await (const event of generateSpeech(model, voice, request, () => false))
          if (event.type === 'end') codes = event.codes;
        return codes!;
      };
      const first = await run();
      const cache = model.acquireCache();
      const buffers = cache.buffers();
      model.releaseCache(cache);
      const second = await run();
      const again = model.acquireCache();
      assert.equal(again, cache, 'the same cache object');
      assert.ok(
        again.buffers().every((buffer, index) => buffer === buffers[index]),
        'the same ArrayBuffers',
      );
      const { maxPositions, layers, kvHeads, headDim } = model.manifest.dimensions;
      assert.equal(
        buffers[0].byteLength,
        Math.ceil(maxPositions / KV_BLOCK) * KV_BLOCK * kvHeads * headDim * 4,
      );
      assert.equal(buffers.length, 2 * layers);
      model.releaseCache(again);
      assert.deepEqual([...second], [...first], 'a reused cache gives the same codes');
    } finally {
      await model.release();
    }
  });

  it('feeds the used blocks as views of its buffers', () => {
    const cache = new KvCache(2, 2, 4, 'float32', 100, 8);
    assert.deepEqual(cache.feeds().past_keys_0.dims, [1, 2, 4, 8], 'one block even when empty');
    const rows = new Float32Array(2 * 2 * 9 * 4).map((_value, index) => index);
    cache.append(rows, rows, 9);
    const feeds = cache.feeds();
    assert.deepEqual(feeds.past_keys_1.dims, [2, 2, 4, 8]);
    assert.deepEqual(feeds.past_values_1.dims, [2, 2, 8, 4]);
    const values = feeds.past_values_1.data as Float32Array;
    assert.equal(values.buffer, cache.buffers()[3], 'a view, not a copy');
    // Layer 1, head 1, position 8 (block 1, slot 0), dimension 2.
    const source = ((1 * 2 + 1) * 9 + 8) * 4 + 2;
    assert.equal(values[((1 * 2 + 1) * 8 + 0) * 4 + 2], source);
    assert.equal((feeds.past_keys_1.data as Float32Array)[((1 * 2 + 1) * 4 + 2) * 8 + 0], source);
    cache.reset();
    cache.prefault(9);
    assert.equal(values[((1 * 2 + 1) * 8 + 0) * 4 + 2], 0, 'prefault writes (and clears) the first blocks');
    assert.throws(
      () => cache.append(new Float32Array(2 * 2 * 105 * 4), new Float32Array(2 * 2 * 105 * 4), 105),
      /reach 105 positions; the model allows 104/,
    );
  });

  it('gives a prefill and the same positions step by step the same result, across block edges', async () => {
    const model = await Qwen3ModelRuntime.load(synthetic, 'float32', CPU);
    try {
      const { hidden, layers, kvHeads, headDim } = model.manifest.dimensions;
      const rows = 11;
      const embeds = Float32Array.from({ length: rows * hidden }, (_value, index) => Math.sin(index * 0.37));
      const whole = new KvCache(layers, kvHeads, headDim, 'float32', 64, 4);
      const once = await model.talker(embeds, rows, whole);
      const stepped = new KvCache(layers, kvHeads, headDim, 'float32', 64, 4);
      let output = await model.talker(embeds.subarray(0, 3 * hidden), 3, stepped);
      stepped.append(output.newKeys, output.newValues, 3);
      for (let row = 3; row < rows; row += 1) {
        output = await model.talker(embeds.subarray(row * hidden, (row + 1) * hidden), 1, stepped);
        stepped.append(output.newKeys, output.newValues, 1);
      }
      const largest = (left: Float32Array, right: Float32Array) =>
        left.reduce((worst, value, index) => Math.max(worst, Math.abs(value - right[index])), 0);
      assert.ok(largest(output.hidden, once.hidden) < 1e-5, 'hidden');
      assert.ok(largest(output.logits, once.logits) < 1e-4, 'logits');
    } finally {
      await model.release();
    }
  });

  it('tells an older export what it needs', async () => {
    const directory = temporaryDirectory('contract-2-');
    const manifest = JSON.parse(readFileSync(path.join(synthetic, 'manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(path.join(directory, 'manifest.json'), JSON.stringify({ ...manifest, contractVersion: 2 }));
    await assert.rejects(
      readQwen3Manifest(directory),
      /contract 2; this engine needs contract 3 .*blocked KV cache.*export\.py/,
    );
    rmSync(directory, { recursive: true, force: true });
  });
});
