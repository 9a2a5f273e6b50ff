import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { float32ToFloat16Bits } from '../../src/onnx/float16.ts';
import { writeSyntheticQwen3Model } from '../../src/models/synth-qwen3.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxTypes };

/** Node counts by op type, and the distinct initializers that feed a MatMul as its weight. */
function graphCensus(file: string): { ops: Map<string, number>; matmulWeights: Set<string> } {
  const graph = onnx.ModelProto.decode(readFileSync(file)).graph!;
  const initializers = new Set(graph.initializer!.map((tensor) => tensor.name!));
  const ops = new Map<string, number>();
  const matmulWeights = new Set<string>();
  for (const node of graph.node!) {
    ops.set(node.opType!, (ops.get(node.opType!) ?? 0) + 1);
    const weight = node.input![1];
    if (node.opType === 'MatMul' && initializers.has(weight)) matmulWeights.add(weight);
  }
  return { ops, matmulWeights };
}

const STEPS = 15;
/** The tiny predictor's layer count (real: 5); each layer has 7 weight matmuls and 2 attention ones. */
const TINY_PREDICTOR_LAYERS = 1;

describe('synthetic Qwen3 graphs have the real structure (tiny widths)', () => {
  const root = temporaryDirectory('synth-structure-');
  const small = path.join(root, 'base_0.6b');
  const large = path.join(root, 'base_1.7b');
  before(async () => {
    await writeSyntheticQwen3Model(small, { key: 'base_0.6b', dtype: 'float32', size: 'tiny' });
    await writeSyntheticQwen3Model(large, { key: 'base_1.7b', dtype: 'float32', size: 'tiny' });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('runs the code predictor transformer at every one of its 15 steps, with one set of layer weights', () => {
    for (const [directory, projections] of [
      [small, 0],
      [large, STEPS], // 1.7B: the talker-to-predictor projection on the context and on each step's input
    ] as const) {
      const { ops, matmulWeights } = graphCensus(path.join(directory, 'float32', 'code_predictor.onnx'));
      assert.equal(ops.get('MatMul'), STEPS * TINY_PREDICTOR_LAYERS * 9 + STEPS + projections, directory);
      assert.equal(ops.get('Softmax'), STEPS * TINY_PREDICTOR_LAYERS + STEPS); // attention, then sampling
      assert.equal(ops.get('TopK'), STEPS);
      // Layers are shared across steps; the 15 lm heads are not.
      assert.equal(matmulWeights.size, TINY_PREDICTOR_LAYERS * 7 + STEPS + (projections > 0 ? 1 : 0));
    }
  });

  it('predicts 15 codes in range, greedily the same for the same input', async () => {
    for (const directory of [small, large]) {
      const session = await ort.InferenceSession.create(
        path.join(directory, 'float32', 'code_predictor.onnx'),
      );
      const hidden = JSON.parse(readFileSync(path.join(directory, 'manifest.json'), 'utf8')).dimensions
        .hidden as number;
      const feeds = {
        hidden: new ort.Tensor(
          'float32',
          Float32Array.from({ length: hidden }, (_v, i) => Math.sin(i)),
          [1, hidden],
        ),
        first_code: new ort.Tensor('int64', BigInt64Array.from([7n]), [1]),
        temperature: new ort.Tensor('float32', Float32Array.from([1]), []),
        top_k: new ort.Tensor('int64', BigInt64Array.from([0n]), []),
        top_p: new ort.Tensor('float32', Float32Array.from([1]), []),
        noise: new ort.Tensor('float32', new Float32Array(STEPS * 2048).fill(0.5), [STEPS, 2048]),
      };
      const first = (await session.run(feeds)).codes.data as BigInt64Array;
      const second = (await session.run(feeds)).codes.data as BigInt64Array;
      assert.equal(first.length, STEPS);
      assert.deepEqual([...first], [...second]);
      for (const code of first) assert.ok(code >= 0n && code < 2048n);
      await session.release();
    }
  });

  it('decodes with the codec decoder structure: finite audio in [-1, 1], 1920 samples a frame, causal', async () => {
    const { ops } = graphCensus(path.join(small, 'float32', 'codec_decoder.onnx'));
    // pre-conv, 2 ConvNeXt depthwise, vocoder input, 4 blocks × 3 residual units × 2, output conv
    assert.equal(ops.get('Conv'), 1 + 2 + 1 + 24 + 1);
    assert.equal(ops.get('ConvTranspose'), 2 + 4);
    assert.equal(ops.get('Sin'), 4 * 7 + 1 + 1); // SnakeBeta: per block 1 + 3×2, the last one; rotary
    const session = await ort.InferenceSession.create(path.join(small, 'float32', 'codec_decoder.onnx'));
    const frames = 12;
    const codes = BigInt64Array.from({ length: frames * 16 }, (_v, index) => BigInt((index * 7919) % 2048));
    const decode = async (count: number, context: number) =>
      (
        await session.run({
          codes: new ort.Tensor('int64', codes.subarray(0, count * 16), [1, count, 16]),
          context_frames: new ort.Tensor('int64', BigInt64Array.from([BigInt(context)]), []),
        })
      ).audio.data as Float32Array;
    const audio = await decode(frames, 3);
    assert.equal(audio.length, (frames - 3) * 1920);
    let energy = 0;
    let clipped = 0;
    for (const sample of audio) {
      assert.ok(Number.isFinite(sample) && Math.abs(sample) <= 1, String(sample));
      energy += sample * sample;
      if (Math.abs(sample) === 1) clipped += 1;
    }
    assert.ok(energy > 0, 'not silent');
    assert.ok(clipped < audio.length / 10, `${clipped} of ${audio.length} samples clipped`);
    // Causal: the first frames decode the same with or without later frames.
    const prefix = await decode(6, 3);
    for (let index = 0; index < prefix.length; index += 1)
      assert.ok(Math.abs(prefix[index] - audio[index]) < 1e-4, `sample ${index}`);
    await session.release();
  });

  it('runs the float16 variant (float16 weights and I/O, float32 inside)', async () => {
    const directory = path.join(root, 'half');
    await writeSyntheticQwen3Model(directory, { key: 'base_1.7b', dtype: 'float16', size: 'tiny' });
    const predictor = await ort.InferenceSession.create(
      path.join(directory, 'float16', 'code_predictor.onnx'),
    );
    const hidden = Float32Array.from({ length: 16 }, (_v, index) => Math.cos(index));
    const { codes } = await predictor.run({
      hidden: new ort.Tensor('float16', float32ToFloat16Bits(hidden), [1, 16]),
      first_code: new ort.Tensor('int64', BigInt64Array.from([3n]), [1]),
      temperature: new ort.Tensor('float32', Float32Array.from([0.9]), []),
      top_k: new ort.Tensor('int64', BigInt64Array.from([50n]), []),
      top_p: new ort.Tensor('float32', Float32Array.from([0.8]), []),
      noise: new ort.Tensor('float32', new Float32Array(STEPS * 2048).fill(0.3), [STEPS, 2048]),
    });
    assert.equal(codes.dims[0], STEPS);
    const decoder = await ort.InferenceSession.create(path.join(directory, 'float16', 'codec_decoder.onnx'));
    const { audio } = await decoder.run({
      codes: new ort.Tensor('int64', new BigInt64Array(2 * 16).fill(5n), [1, 2, 16]),
      context_frames: new ort.Tensor('int64', BigInt64Array.from([0n]), []),
    });
    assert.equal(audio.type, 'float16');
    assert.deepEqual(audio.dims, [1, 2 * 1920]);
    await Promise.all([predictor.release(), decoder.release()]);
  });
});
