/**
 * Per-graph session.run times of the per-frame Qwen3 graphs, for two or more model directories run
 * alternately in one process (so that a busy machine slows them alike): one talker step over a cache,
 * one code-predictor run (15 residual codes), and one streamed decoder piece (16 new frames after the
 * attention window of context).
 *   npm run bench -- qwen3-graphs --model <dir> [--model <dir> …] [--repeats 7] [--past 100]
 *   --synthetic tiny|real [--key base_0.6b|base_1.7b]: also write and include a synthetic model
 *   --dtype float32|int8|int4: the variant to write and run (default float32)
 *   --block N: positions per KV cache block (default: the engine's)
 *   --only talker[,code_predictor,codec_decoder]: load and time these graphs only
 * Prints the median of each graph per model and, with several models, each one's ratio to the first.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { KV_BLOCK, KvCache } from '../src/engines/qwen3-onnx/kv-cache.ts';
import { writeSyntheticQwen3Model } from '../src/models/synth-qwen3.ts';
import { sessionOptions } from '../src/onnx/session-options.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true, default: [] },
    synthetic: { type: 'string' },
    key: { type: 'string', default: 'base_0.6b' },
    repeats: { type: 'string', default: '7' },
    past: { type: 'string', default: '100' },
    threads: { type: 'string', default: '0' },
    dtype: { type: 'string', default: 'float32' },
    block: { type: 'string', default: String(KV_BLOCK) },
    only: { type: 'string' },
  },
});
const repeats = Number(values.repeats);
const pastLength = Number(values.past);
const scratch = mkdtempSync(path.join(tmpdir(), 'bench-qwen3-graphs-'));
const directories = [...values.model];
if (values.synthetic) {
  const directory = path.join(scratch, 'synthetic');
  await writeSyntheticQwen3Model(directory, {
    key: values.key as 'base_0.6b' | 'base_1.7b',
    dtype: values.dtype as 'float32' | 'int8' | 'int4',
    size: values.synthetic as 'tiny' | 'real',
  });
  directories.push(directory);
}
if (directories.length === 0) throw new Error('give at least one --model <dir> or --synthetic tiny|real');

interface Dimensions {
  hidden: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  maxPositions: number;
}

/** A deterministic uniform in (0, 1), so every model sees the same inputs. */
const uniform = (index: number) => (((index * 2654435761) % 4294967291) + 1) / 4294967296;
const floats = (count: number, scale: number) =>
  Float32Array.from({ length: count }, (_value, index) => (uniform(index) * 2 - 1) * scale);

const allGraphs = ['talker', 'code_predictor', 'codec_decoder'] as const;
type Graph = (typeof allGraphs)[number];
const graphs = values.only ? allGraphs.filter((graph) => values.only!.split(',').includes(graph)) : allGraphs;

interface LoadedModel {
  name: string;
  sessions: Record<Graph, ort.InferenceSession>;
  feeds: Record<Graph, Record<string, ort.Tensor>>;
  times: Record<Graph, number[]>;
}

const options = sessionOptions({ device: { kind: 'cpu' }, threads: Number(values.threads) });
const models: LoadedModel[] = [];
for (const directory of directories) {
  const manifest = JSON.parse(readFileSync(path.join(directory, 'manifest.json'), 'utf8')) as {
    dimensions: Dimensions;
    source: { repository: string };
  };
  const { hidden, layers, kvHeads, headDim, maxPositions } = manifest.dimensions;
  const startedAt = performance.now();
  const sessions = {} as Record<Graph, ort.InferenceSession>;
  for (const graph of graphs)
    sessions[graph] = await ort.InferenceSession.create(
      path.join(directory, values.dtype, `${graph}.onnx`),
      options,
    );
  // The worker's blocked cache (kv-cache.ts), filled to the past length with the same values for every model.
  const cache = new KvCache(layers, kvHeads, headDim, 'float32', maxPositions, Number(values.block));
  const filler = floats(layers * kvHeads * pastLength * headDim, 1);
  cache.append(filler, filler, pastLength);
  const decoderFrames = 72 + 16;
  const name = manifest.source.repository;
  models.push({
    name,
    sessions,
    feeds: {
      talker: {
        inputs_embeds: new ort.Tensor('float32', floats(hidden, 1), [1, 1, hidden]),
        ...cache.feeds(),
        past_length: new ort.Tensor('int64', BigInt64Array.from([BigInt(pastLength)]), []),
      },
      code_predictor: {
        hidden: new ort.Tensor('float32', floats(hidden, 1), [1, hidden]),
        first_code: new ort.Tensor('int64', BigInt64Array.from([17n]), [1]),
        temperature: new ort.Tensor('float32', Float32Array.from([0.9]), []),
        top_k: new ort.Tensor('int64', BigInt64Array.from([50n]), []),
        top_p: new ort.Tensor('float32', Float32Array.from([1]), []),
        noise: new ort.Tensor(
          'float32',
          Float32Array.from({ length: 15 * 2048 }, (_value, index) => uniform(index + 7)),
          [15, 2048],
        ),
      },
      codec_decoder: {
        codes: new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: decoderFrames * 16 }, (_value, index) =>
            BigInt((index * 7919) % 2048),
          ),
          [1, decoderFrames, 16],
        ),
        context_frames: new ort.Tensor('int64', BigInt64Array.from([72n]), []),
      },
    },
    times: { talker: [], code_predictor: [], codec_decoder: [] },
  });
  console.log(`${name}: loaded in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
}

// One untimed run each (first-run allocations), then the models alternate graph by graph.
for (const model of models) for (const graph of graphs) await model.sessions[graph].run(model.feeds[graph]);
for (let repeat = 0; repeat < repeats; repeat += 1)
  for (const graph of graphs)
    for (const model of models) {
      const startedAt = performance.now();
      await model.sessions[graph].run(model.feeds[graph]);
      model.times[graph].push(performance.now() - startedAt);
    }

const median = (list: number[]) => [...list].sort((left, right) => left - right)[Math.floor(list.length / 2)];
const labels: Record<Graph, string> = {
  talker: `talker step (past ${pastLength})`,
  code_predictor: 'code predictor (15 codes)',
  codec_decoder: 'decoder piece (16 + 72 context frames)',
};
console.log(
  `median of ${repeats} runs, ms (peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB)`,
);
for (const graph of graphs) {
  const first = median(models[0].times[graph]);
  const cells = models.map((model) => {
    const value = median(model.times[graph]);
    return `${model.name} ${value.toFixed(1)}${model === models[0] ? '' : ` (×${(value / first).toFixed(2)})`}`;
  });
  console.log(`  ${labels[graph]}: ${cells.join(', ')}`);
}
for (const model of models) for (const graph of graphs) await model.sessions[graph].release();
rmSync(scratch, { recursive: true, force: true });
