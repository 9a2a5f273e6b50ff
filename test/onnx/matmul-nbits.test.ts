import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import {
  addMatMulNBits,
  dequantizeMatMulWeight,
  quantizeMatMulWeight,
  quantizeOnnxModel,
} from '../../src/onnx/matmul-nbits.ts';

const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxTypes };

/** Written by tools/fixtures/matmul_nbits_golden.py with onnxruntime's Python MatMulNBitsQuantizer. */
interface Golden {
  k: number;
  n: number;
  weight: number[];
  cases: {
    bits: 4 | 8;
    blockSize: number;
    attributes: Record<string, number>;
    b: { dims: number[]; data: number[] };
    scales: { dims: number[]; data: number[] };
    zeroPoints: { dims: number[]; data: number[] };
  }[];
}
const golden = JSON.parse(
  readFileSync(new URL('../fixtures/matmul-nbits/golden.json', import.meta.url), 'utf8'),
) as Golden;

/** Deterministic values in [-scale, scale). */
function pseudoRandom(count: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return ((state / 2 ** 32) * 2 - 1) * scale;
  });
}

/** x [M, K] @ w [K, N] in float64. */
function matmul(x: Float32Array, w: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let row = 0; row < m; row += 1)
    for (let inner = 0; inner < k; inner += 1)
      for (let column = 0; column < n; column += 1)
        out[row * n + column] += x[row * k + inner] * w[inner * n + column];
  return out;
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let index = 0; index < a.length; index += 1) worst = Math.max(worst, Math.abs(a[index] - b[index]));
  return worst;
}

async function runMatMulNBits(
  x: Float32Array,
  m: number,
  weight: ReturnType<typeof quantizeMatMulWeight>,
  accuracyLevel: 0 | 4,
): Promise<Float32Array> {
  const graph = new GraphBuilder('matmul_nbits');
  const input = graph.input('x', 'float32', [m, weight.k]);
  graph.output(addMatMulNBits(graph, input, weight, { accuracyLevel }), 'y', 'float32', [m, weight.n]);
  const session = await ort.InferenceSession.create(graph.encode());
  try {
    const output = await session.run({ x: new ort.Tensor('float32', x, [m, weight.k]) });
    return output.y.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('MatMulNBits weights (src/onnx/matmul-nbits.ts)', () => {
  for (const expected of golden.cases) {
    it(`packs ${expected.bits}-bit, block ${expected.blockSize} exactly as onnxruntime's quantizer`, () => {
      const weight = quantizeMatMulWeight(
        Float32Array.from(golden.weight),
        golden.k,
        golden.n,
        expected.bits,
        expected.blockSize,
      );
      assert.deepEqual(weight.bDims, expected.b.dims);
      assert.deepEqual(weight.scalesDims, expected.scales.dims);
      assert.deepEqual(weight.zeroPointsDims, expected.zeroPoints.dims);
      assert.deepEqual([...weight.b], expected.b.data);
      assert.deepEqual([...weight.scales], expected.scales.data);
      assert.deepEqual([...weight.zeroPoints], expected.zeroPoints.data);
      assert.equal(expected.attributes.K, golden.k);
      assert.equal(expected.attributes.N, golden.n);
    });
  }

  const shapes: [number, number, 4 | 8, number][] = [
    [64, 24, 4, 32],
    [72, 10, 4, 16],
    [96, 20, 8, 32],
    [40, 8, 8, 16],
  ];
  for (const [k, n, bits, blockSize] of shapes) {
    it(`runs in onnxruntime-node: ${bits}-bit [${k}, ${n}], block ${blockSize}`, async () => {
      const m = 3;
      const w = pseudoRandom(k * n, k * 31 + n, 0.5);
      const x = pseudoRandom(m * k, 7 + bits);
      const weight = quantizeMatMulWeight(w, k, n, bits, blockSize);
      const dequantized = dequantizeMatMulWeight(weight);
      const exact = matmul(x, dequantized, m, k, n);
      const original = matmul(x, w, m, k, n);

      // accuracy_level 0 computes in float32 on the dequantized weight: equal up to rounding.
      const precise = await runMatMulNBits(x, m, weight, 0);
      assert.ok(maxAbsDifference(precise, exact) < 1e-4, `level 0: ${maxAbsDifference(precise, exact)}`);
      // accuracy_level 4 also rounds the activations to int8 (per block): about 1% of the output scale.
      const fast = await runMatMulNBits(x, m, weight, 4);
      const scale = Math.max(...exact.map(Math.abs));
      assert.ok(maxAbsDifference(fast, exact) < 0.02 * scale, `level 4: ${maxAbsDifference(fast, exact)}`);

      // Against the float32 weight: within the quantization step (half a step per weight, summed).
      let bound = 0;
      for (let row = 0; row < m; row += 1) {
        let sum = 0;
        for (let inner = 0; inner < k; inner += 1) {
          const block = Math.floor(inner / blockSize);
          let step = 0;
          for (let column = 0; column < n; column += 1)
            step = Math.max(step, weight.scales[column * weight.blocks + block]);
          sum += Math.abs(x[row * k + inner]) * (step / 2 + 1e-6);
        }
        bound = Math.max(bound, sum);
      }
      assert.ok(
        maxAbsDifference(precise, original) <= bound,
        `${maxAbsDifference(precise, original)} > ${bound}`,
      );
      assert.ok(maxAbsDifference(dequantized, w) <= Math.max(...weight.scales) / 2 + 1e-6);
    });
  }

  it('declares the com.microsoft opset only when a contrib op is used', () => {
    const plain = new GraphBuilder('plain');
    plain.output(plain.op('Relu', [plain.input('x', 'float32', [1])]), 'y', 'float32', [1]);
    const imports = (bytes: Uint8Array) =>
      onnx.ModelProto.decode(bytes).opsetImport!.map(
        (entry) => `${entry.domain ?? ''}:${String(entry.version)}`,
      );
    assert.deepEqual(imports(plain.encode()), [':17']);

    const graph = new GraphBuilder('contrib');
    const weight = quantizeMatMulWeight(pseudoRandom(32, 1), 16, 2, 4, 16);
    graph.output(addMatMulNBits(graph, graph.input('x', 'float32', [1, 16]), weight), 'y', 'float32', [1, 2]);
    const model = onnx.ModelProto.decode(graph.encode());
    assert.deepEqual(imports(graph.encode()), [':17', 'com.microsoft:1']);
    const node = model.graph!.node!.find((entry) => entry.opType === 'MatMulNBits')!;
    assert.equal(node.domain, 'com.microsoft');
    const attributes = Object.fromEntries(node.attribute!.map((entry) => [entry.name, Number(entry.i)]));
    assert.deepEqual(attributes, { K: 16, N: 2, bits: 4, block_size: 16, accuracy_level: 4 });
  });

  it('quantizes a whole model: shared weights once, kept nodes float32, same outputs within the error', async () => {
    const k = 64;
    const n = 32;
    const graph = new GraphBuilder('model');
    const x = graph.input('x', 'float32', [1, k]);
    const shared = graph.tensor(pseudoRandom(k * n, 5, 0.3), [k, n]);
    const first = graph.op('MatMul', [x, shared]);
    // The exporter reaches a weight used twice through an Identity.
    const second = graph.op('MatMul', [graph.op('Relu', [x]), graph.op('Identity', [shared])]);
    const head = graph.tensor(pseudoRandom(n * 8, 6, 0.3), [n, 8]);
    graph.output(graph.op('MatMul', [graph.op('Add', [first, second]), head]), 'y', 'float32', [1, 8]);
    // Decoded bytes that are an unaligned view into a larger buffer, as a file read gives.
    const encoded = graph.encode();
    const padded = Buffer.concat([Buffer.alloc(3), Buffer.from(encoded)]).subarray(3);
    const headNode = onnx.ModelProto.decode(encoded).graph!.node!.find((node) => node.input![1] === head)!;
    const { model, quantized } = quantizeOnnxModel(padded, {
      bits: 8,
      blockSize: 32,
      keep: (name) => name === headNode.name,
    });
    assert.equal(quantized, 2);
    const decoded = onnx.ModelProto.decode(model).graph!;
    const ops = decoded.node!.map((node) => node.opType ?? '');
    assert.deepEqual(
      ops.filter((op) => op.startsWith('MatMul')),
      ['MatMulNBits', 'MatMulNBits', 'MatMul'],
    );
    assert.equal(ops.filter((op) => op === 'Identity').length, 1, 'only the output Identity is left');
    // One quantized copy of the shared weight (B and zero points are uint8), the float one gone.
    assert.equal(decoded.initializer!.filter((tensor) => tensor.dataType === 2).length, 2);
    assert.ok(!decoded.initializer!.some((tensor) => tensor.name === shared));
    const run = async (bytes: Uint8Array) => {
      const session = await ort.InferenceSession.create(bytes);
      const input = new ort.Tensor('float32', pseudoRandom(k, 9), [1, k]);
      const output = (await session.run({ x: input })).y.data as Float32Array;
      await session.release();
      return output;
    };
    const reference = await run(encoded);
    const result = await run(model);
    const scale = Math.max(...reference.map(Math.abs));
    assert.ok(maxAbsDifference(result, reference) < 0.02 * scale, `${maxAbsDifference(result, reference)}`);
  });

  it('refuses what MatMulNBits cannot hold, saying what is wrong', () => {
    const values = new Float32Array(64);
    assert.throws(() => quantizeMatMulWeight(values, 32, 2, 2 as 4, 16), /4 or 8 bits/);
    assert.throws(() => quantizeMatMulWeight(values, 32, 2, 4, 24), /power of 2/);
    assert.throws(() => quantizeMatMulWeight(values, 16, 2, 4, 16), /not K × N/);
  });
});
