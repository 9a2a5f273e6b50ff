/**
 * Speech engine benchmark: time to first audio and what it is made of, frames per second, real-time
 * factor, where each frame's time goes (talker, code predictor, codec decoder, TypeScript outside
 * session.run), peak memory, and a look at the audio (peak, RMS, clipped share).
 *   npm run bench -- qwen3 [--size tiny|real] [--key base_0.6b|base_1.7b] [--frames 200] [--runs 3]
 *   --model <dir>: a model directory in our layout (an export) instead of a synthetic model
 *   --threads N: ONNX Runtime intra-op threads (default: let it choose)
 *   --decoder-threads N: the same for the codec decoder's thread (TTS_DECODER_THREADS)
 *   --dtype float32|int8|int4: the variant to write (synthetic) and load (TTS_DTYPE)
 *   [--concurrent N --workers W]: N requests at once on W worker threads (requests queue for a free worker),
 *     twice: the first round includes each worker's first stream of the voice
 *   [--warmup]: warm the model up first (as the server does at startup), to compare first requests
 *   [--decoder step|windowed]: write the synthetic model with codec_decoder_step (default) or without it,
 *     as older exports are, so that streaming re-decodes each piece with 72 frames of left context
 *   [--first-piece N]: frames in a stream's first piece (the engine's default otherwise)
 *   [--piece N]: frames in its later pieces at most (the engine's default otherwise)
 *   [--spinning]: TTS_THREAD_SPINNING=true (ONNX Runtime's threads busy-wait for work)
 *   [--decoder-states N]: TTS_DECODER_STATES (0: every run decodes the reference frames again)
 *   [--whole]: requests that are not streamed (the official chunked decode; the audio comes at the end)
 * Run a synthetic real-size model and an export of the same size in one sitting to compare them.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { Qwen3OnnxEngine } from '../src/engines/qwen3-onnx/engine.ts';
import { writeSyntheticQwen3Model } from '../src/models/synth-qwen3.ts';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1' },
    threads: { type: 'string', default: '0' },
    dtype: { type: 'string', default: 'float32' },
    concurrent: { type: 'string', default: '1' },
    size: { type: 'string', default: 'tiny' },
    key: { type: 'string', default: 'base_0.6b' },
    model: { type: 'string' },
    frames: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'boolean', default: false },
    decoder: { type: 'string', default: 'step' },
    'decoder-states': { type: 'string', default: '8' },
    'decoder-threads': { type: 'string', default: '0' },
    spinning: { type: 'boolean', default: false },
    'first-piece': { type: 'string' },
    piece: { type: 'string' },
    whole: { type: 'boolean', default: false },
  },
});
const frames = Number(values.frames);
const dtype = values.dtype as 'float32' | 'int8' | 'int4';
const scratch = mkdtempSync(path.join(tmpdir(), 'bench-qwen3-'));
let directory: string;
let key: 'base_0.6b' | 'base_1.7b';
if (values.model) {
  directory = path.resolve(values.model);
  const manifest = JSON.parse(readFileSync(path.join(directory, 'manifest.json'), 'utf8')) as {
    modelKey: 'base_0.6b' | 'base_1.7b';
  };
  key = manifest.modelKey;
  console.log(`model ${key} from ${values.model}`);
} else {
  const size = values.size as 'tiny' | 'real';
  key = values.key as 'base_0.6b' | 'base_1.7b';
  directory = path.join(scratch, 'model');
  const writingStartedAt = performance.now();
  console.log(`writing a synthetic ${size} ${key} model …`);
  const decoderStep = values.decoder !== 'windowed';
  await writeSyntheticQwen3Model(directory, { key, dtype, size, eosPosition: 1_000_000, decoderStep });
  console.log(
    `${dtype} written in ${((performance.now() - writingStartedAt) / 1000).toFixed(1)} s, ` +
      `streaming ${decoderStep ? 'through codec_decoder_step' : 'with 72 frames of left context per piece'}`,
  );
}
const config = loadConfig({
  [key === 'base_1.7b' ? 'MODEL_1_7B_BASE' : 'MODEL_0_6B_BASE']: directory,
  CACHE_DIR: path.join(scratch, 'cache'),
  TTS_DEVICE: 'cpu',
  TTS_WORKERS: values.workers,
  TTS_THREADS: values.threads,
  TTS_DTYPE: dtype,
  TTS_DECODER_STATES: values['decoder-states'],
  TTS_DECODER_THREADS: values['decoder-threads'],
  TTS_THREAD_SPINNING: String(values.spinning),
});
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;
const engine = new Qwen3OnnxEngine(config, undefined, {
  ...(values['first-piece'] ? { firstChunkFrames: Number(values['first-piece']) } : {}),
  ...(values.piece ? { chunkFrames: Number(values.piece) } : {}),
});
const loadStartedAt = performance.now();
await engine.loadModel(key);
console.log(
  `loaded in ${Math.round(performance.now() - loadStartedAt)} ms, peak RSS ${peakRssMb().toFixed(0)} MB`,
);
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
const voicePromptMs = performance.now() - voiceStartedAt;
console.log(`voice prompt (codec encoder + speaker encoder, 4 s reference) ${Math.round(voicePromptMs)} ms`);
/** One utterance of `frames` frames (a synthetic model never ends on its own), seeded per run. */
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
      streaming: !values.whole,
    },
    AbortSignal.timeout(3600000),
  );

const ms = (value: number) => value.toFixed(0);
const perFrame = (value: number, count: number) => (value / Math.max(count, 1)).toFixed(1);
for (let run = 0; run < Number(values.runs); run += 1) {
  const startedAt = performance.now();
  let firstAudio = 0;
  let timings: Record<string, number> = {};
  let made = 0;
  let peak = 0;
  let energy = 0;
  let clipped = 0;
  let count = 0;
  for await (const part of generate(run)) {
    if (part.type === 'audio-delta') {
      if (firstAudio === 0) firstAudio = performance.now() - startedAt;
      for (const sample of part.samples) {
        peak = Math.max(peak, Math.abs(sample));
        energy += sample * sample;
        if (Math.abs(sample) >= 1) clipped += 1;
      }
      count += part.samples.length;
    }
    if (part.type === 'audio-end') {
      timings = part.timings ?? {};
      made = part.frames ?? 0;
    }
  }
  const seconds = (performance.now() - startedAt) / 1000;
  // Per frame: the talker's step and the predictor's run, in the worker; the decoder's share of the
  // streamed pieces (each frame once; with --decoder windowed each piece again after 72 frames of
  // context), on the decoder thread beside them; how long the worker waited for the decoder once every
  // frame was made; and what is left of the loop (sampling, frame rows, messages). The reference frames'
  // run through the decoder's state (a voice's first stream only) also overlaps the prefill and frames.
  const referenceMs = timings.referenceDecodeMs;
  const loopMs = timings.totalMs - timings.prefillMs;
  const frameDecoderMs = timings.decoderMs - referenceMs;
  const waitMs = timings.decoderWaitMs;
  const loopHostMs = loopMs - timings.talkerMs - timings.predictorMs - waitMs;
  const firstFramesMs = timings.firstAudioTalkerMs + timings.firstAudioPredictorMs;
  const firstOtherMs = timings.firstAudioMs - timings.prefillMs - firstFramesMs;
  console.log(
    [
      `run ${run + 1}: ${made} frames in ${seconds.toFixed(2)} s = ${(made / seconds).toFixed(2)} frames/s, RTF ${(seconds / timings.audioSeconds).toFixed(2)}`,
      `  per frame ${perFrame(loopMs, made)} ms: talker ${perFrame(timings.talkerMs, made)}, code predictor ${perFrame(timings.predictorMs, made)}, host ${perFrame(loopHostMs, made)} ms, ` +
        `waiting for the decoder at the end ${ms(waitMs)} ms in all; beside them the decoder ${perFrame(frameDecoderMs, made)} ms`,
      `  first audio ${ms(firstAudio)} ms (in the worker ${ms(timings.firstAudioMs)}): prompt + text_embed ${ms(timings.promptMs)}, prefill ${ms(timings.prefillTalkerMs)} (${timings.promptRows} rows), ` +
        `first ${timings.firstAudioFrames} frames ${ms(firstFramesMs)} (talker ${ms(timings.firstAudioTalkerMs)} + predictor ${ms(timings.firstAudioPredictorMs)}), other ${ms(firstOtherMs)}; ` +
        `on the decoder thread the reference ${ms(referenceMs)} (${timings.referenceDecodeFrames} frames, from before the prefill) and the first piece ${ms(timings.firstAudioDecodeMs)}` +
        ` — plus the voice prompt (${ms(voicePromptMs)} ms) when the voice is new`,
      `  TypeScript outside session.run ${((100 * timings.hostMs) / timings.totalMs).toFixed(1)} % of the request; peak RSS ${peakRssMb().toFixed(0)} MB; ` +
        `audio peak ${peak.toFixed(2)}, RMS ${Math.sqrt(energy / Math.max(count, 1)).toFixed(3)}, clipped ${((100 * clipped) / Math.max(count, 1)).toFixed(1)} %`,
    ].join('\n'),
  );
}
const concurrent = Number(values.concurrent);
if (concurrent > 1) {
  for (let round = 1; round <= 2; round += 1) {
    const startedAt = performance.now();
    const firstAudio: number[] = Array.from({ length: concurrent }, () => 0);
    await Promise.all(
      Array.from({ length: concurrent }, async (_value, index) => {
        for await (const part of generate(round * concurrent + index))
          if (part.type === 'audio-delta' && firstAudio[index] === 0)
            firstAudio[index] = performance.now() - startedAt;
      }),
    );
    const seconds = (performance.now() - startedAt) / 1000;
    const sorted = firstAudio.sort((a, b) => a - b);
    console.log(
      `round ${round}: ${concurrent} requests at once on ${values.workers} worker(s): ${((concurrent * frames) / seconds).toFixed(2)} frames/s in total, all done in ${seconds.toFixed(2)} s; first audio ${sorted.map(ms).join(', ')} ms`,
    );
  }
}
await engine.close();
rmSync(scratch, { recursive: true, force: true });
