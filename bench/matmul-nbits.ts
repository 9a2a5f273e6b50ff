/**
 * How fast onnxruntime-node runs one Qwen3-TTS 0.6B transformer layer's weight matmuls (hidden
 * 1024: q 1024→2048, k/v 1024→1024, o 2048→1024, gate/up 1024→3072, down 3072→1024) for one
 * token, in float32 and as MatMulNBits at 4 and 8 bits, per block size and accuracy level. This
 * is what chose tools/export/qwen3/quantize.py's defaults. Random weights: the speed does not
 * depend on the values.
 *
 *   npx tsx bench/matmul-nbits.ts [--threads 1] [--runs 200] [--rows 1]
 */
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/onnx/graph-builder.ts';
import { addMatMulNBits, quantizeMatMulWeight } from '../src/onnx/matmul-nbits.ts';

const LAYER: [number, number][] = [
  [1024, 2048],
  [1024, 1024],
  [1024, 1024],
  [2048, 1024],
  [1024, 3072],
  [1024, 3072],
  [3072, 1024],
];

function randomWeights(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 0.05;
  });
}

/** Each matmul reads the graph input, as the layer's ones read a normed hidden state; outputs summed away. */
function layerGraph(
  variant: { bits: 4 | 8; blockSize: number; accuracyLevel: 0 | 4 } | undefined,
): Uint8Array {
  const graph = new GraphBuilder('layer');
  const inputs = new Map<number, string>();
  for (const width of new Set(LAYER.map(([k]) => k)))
    inputs.set(width, graph.input(`x${width}`, 'float32', ['rows', width]));
  const sums: string[] = [];
  LAYER.forEach(([k, n], index) => {
    const values = randomWeights(k * n, index + 1);
    const input = inputs.get(k)!;
    const product = variant
      ? addMatMulNBits(graph, input, quantizeMatMulWeight(values, k, n, variant.bits, variant.blockSize), {
          accuracyLevel: variant.accuracyLevel,
        })
      : graph.op('MatMul', [input, graph.tensor(values, [k, n])]);
    sums.push(graph.op('ReduceSum', [product], { keepdims: { int: 0 } }));
  });
  graph.output(graph.op('Sum', sums), 'y', 'float32', []);
  return graph.encode();
}

async function time(model: Uint8Array, threads: number, runs: number, rows: number): Promise<number> {
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const feeds: Record<string, ort.Tensor> = {};
  for (const width of new Set(LAYER.map(([k]) => k)))
    feeds[`x${width}`] = new ort.Tensor('float32', randomWeights(rows * width, width), [rows, width]);
  for (let index = 0; index < 20; index += 1) await session.run(feeds);
  const started = performance.now();
  for (let index = 0; index < runs; index += 1) await session.run(feeds);
  const perRun = (performance.now() - started) / runs;
  await session.release();
  return perRun;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string', default: '1' },
      runs: { type: 'string', default: '200' },
      rows: { type: 'string', default: '1' },
    },
  });
  const threads = Number(values.threads);
  const runs = Number(values.runs);
  const rows = Number(values.rows);
  const variants: { name: string; variant?: { bits: 4 | 8; blockSize: number; accuracyLevel: 0 | 4 } }[] = [
    { name: 'float32' },
  ];
  for (const bits of [4, 8] as const)
    for (const accuracyLevel of [4, 0] as const)
      for (const blockSize of accuracyLevel === 4 ? [16, 32, 64, 128] : [32])
        variants.push({
          name: `int${bits} block ${blockSize} level ${accuracyLevel}`,
          variant: { bits, blockSize, accuracyLevel },
        });
  const results: { name: string; ms: number }[] = [];
  // Two rounds, interleaved, so a busy neighbour on the CPUs slows every variant alike.
  for (let round = 0; round < 2; round += 1)
    for (const { name, variant } of variants) {
      const ms = await time(layerGraph(variant), threads, runs, rows);
      const previous = results.find((entry) => entry.name === name);
      if (previous) previous.ms = Math.min(previous.ms, ms);
      else results.push({ name, ms });
    }
  const baseline = results[0].ms;
  console.log(
    `one 0.6B layer's matmuls, ${rows} row(s), ${threads} thread(s), best of 2 rounds × ${runs} runs`,
  );
  for (const { name, ms } of results)
    console.log(
      `${name.padEnd(26)} ${ms.toFixed(3).padStart(8)} ms   ×${(baseline / ms).toFixed(2)} vs float32`,
    );
}

await main();
