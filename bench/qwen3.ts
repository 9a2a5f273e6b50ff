/**
 * Speech engine benchmark on synthetic models: time to first audio, real-time factor, frames per
 * second, and the share of the loop spent in TypeScript outside session.run.
 *   npm run bench -- qwen3 [--size tiny|real] [--key base_0.6b|base_1.7b] [--frames 200] [--runs 3]
 *   [--concurrent N --workers W]: N requests at once on W worker threads (requests queue for a free worker)
 *   [--warmup]: warm the model up first (as the server does at startup), to compare first requests
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { Qwen3OnnxEngine } from '../src/engines/qwen3-onnx/engine.ts';
import { writeSyntheticQwen3Model } from '../src/models/synth-qwen3.ts';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1' },
    concurrent: { type: 'string', default: '1' },
    size: { type: 'string', default: 'tiny' },
    key: { type: 'string', default: 'base_0.6b' },
    frames: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'boolean', default: false },
  },
});
const size = values.size as 'tiny' | 'real';
const key = values.key as 'base_0.6b' | 'base_1.7b';
const frames = Number(values.frames);
const directory = mkdtempSync(path.join(tmpdir(), 'bench-qwen3-'));
console.log(`writing a synthetic ${size} ${key} model …`);
await writeSyntheticQwen3Model(directory, { key, dtype: 'float32', size, eosPosition: 1_000_000 });
const config = loadConfig({
  [key === 'base_1.7b' ? 'MODEL_1_7B_BASE' : 'MODEL_0_6B_BASE']: directory,
  CACHE_DIR: path.join(directory, 'cache'),
  TTS_DEVICE: 'cpu',
  TTS_WORKERS: values.workers,
});
const engine = new Qwen3OnnxEngine(config);
await engine.loadModel(key);
if (values.warmup) console.log(`warmed up in ${Math.round(await engine.warmUp(key))} ms`);
const voiceStartedAt = performance.now();
const samples = Float32Array.from(
  { length: 24000 * 4 },
  (_value, index) => 0.3 * Math.sin(index / 9) * Math.sin(index / 5000),
);
const voice = await engine.prepareVoice(
  {
    model: key,
    reference: {
      samples,
      sampleRate: 24000,
      hash: createHash('sha256').update(new Uint8Array(samples.buffer)).digest('hex'),
    },
    referenceText: '안녕하세요, 반갑습니다.',
    xVectorOnly: false,
  },
  AbortSignal.timeout(600000),
);
console.log(`first voice prepared in ${Math.round(performance.now() - voiceStartedAt)} ms`);
/** One utterance of `frames` frames (the synthetic model never ends on its own), seeded per run. */
const generate = (seed: number) =>
  engine.generate(
    {
      model: key,
      text: '안녕하세요. 오늘 면접을 진행할 면접관입니다. 먼저 간단한 자기소개를 부탁드립니다.',
      language: 'Korean',
      voice,
      sampling: {
        seed,
        temperature: 0.9,
        topK: 50,
        topP: 1,
        repetitionPenalty: 1.05,
        doSample: true,
        maxNewTokens: frames + 1,
      },
      streaming: true,
    },
    AbortSignal.timeout(3600000),
  );

const rows: string[] = [];
for (let run = 0; run < Number(values.runs); run += 1) {
  const startedAt = performance.now();
  let firstAudio = 0;
  let timings: Record<string, number> = {};
  for await (const part of generate(run)) {
    if (part.type === 'audio-delta' && firstAudio === 0) firstAudio = performance.now() - startedAt;
    if (part.type === 'audio-end') timings = part.timings ?? {};
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const loopMs = timings.totalMs - timings.prefillMs;
  rows.push(
    `run ${run + 1}: first audio ${firstAudio.toFixed(0)} ms, ${frames} frames in ${seconds.toFixed(2)} s = ${(frames / seconds).toFixed(1)} frames/s, ` +
      `RTF ${(seconds / timings.audioSeconds).toFixed(3)}, TypeScript outside session.run ${((100 * timings.hostMs) / timings.totalMs).toFixed(1)} % of the loop (${(loopMs / frames).toFixed(2)} ms/frame)`,
  );
  console.log(rows.at(-1));
}
const concurrent = Number(values.concurrent);
if (concurrent > 1) {
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: concurrent }, async (_value, index) => {
      for await (const _part of generate(index)) void _part;
    }),
  );
  const seconds = (performance.now() - startedAt) / 1000;
  console.log(
    `${concurrent} requests at once on ${values.workers} worker(s): ${((concurrent * frames) / seconds).toFixed(1)} frames/s in total, all done in ${seconds.toFixed(2)} s`,
  );
}
await engine.close();
rmSync(directory, { recursive: true, force: true });
