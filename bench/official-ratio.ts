/**
 * Our engine against the official `qwen_tts` code, on the same CPU and the same checkpoint: the
 * official pipeline (tools/export/qwen3/official_speed.py) and our engine on an export of that
 * checkpoint speak the same text greedily (the same work, frame for frame), each after a warm-up,
 * and the ratio of their speeds is printed. Needs the Python side of docs/export.md ("Proving the
 * engine": torch, transformers and qwen_tts importable by --python).
 *   npm run bench -- official --model <export of the checkpoint> [--random-init <config dir> |
 *   --checkpoint <hub id or dir>] [--frames 40] [--threads 2] [--runs 2] [--python python3]
 * Both sides compute the voice prompt from the recording on every run (generate_voice_clone does).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { resample } from '../src/audio/resample.ts';
import { decodeWav } from '../src/audio/wav.ts';
import { loadConfig } from '../src/config.ts';
import { Qwen3OnnxEngine } from '../src/engines/qwen3-onnx/engine.ts';
import { readQwen3Manifest } from '../src/models/qwen3-manifest.ts';

const REFERENCE = 'test/fixtures/qwen3-official/reference.wav';
const REFERENCE_TEXT = '안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다.';
const TEXT = '반갑습니다. 자기소개를 부탁드립니다. 지원하신 동기가 무엇인가요?';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    'random-init': { type: 'string', default: 'tools/export/qwen3/random_init/base_0.6b' },
    checkpoint: { type: 'string' },
    frames: { type: 'string', default: '40' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '2' },
    python: { type: 'string', default: process.env.PYTHON ?? 'python3' },
  },
});
if (!values.model) {
  console.error(
    '--model <directory> is required: an export (tools/export/qwen3/export.py) of the checkpoint',
  );
  process.exit(1);
}
const frames = Number(values.frames);
const runs = Number(values.runs);
const threads = Number(values.threads);

async function official(): Promise<{ frames: number; seconds: number[]; framesPerSecond: number }> {
  const source = values.checkpoint
    ? ['--checkpoint', values.checkpoint]
    : ['--random-init', values['random-init']!];
  try {
    const { stdout } = await promisify(execFile)(
      values.python!,
      [
        'tools/export/qwen3/official_speed.py',
        ...source,
        ...['--reference', REFERENCE, '--frames', String(frames), '--runs', String(runs)],
        ...['--threads', String(threads), '--text', TEXT, '--ref-text', REFERENCE_TEXT],
      ],
      { maxBuffer: 256 << 20, timeout: 3 * 3600 * 1000 },
    );
    return JSON.parse(stdout.trim().split('\n').at(-1)!);
  } catch (error) {
    console.error(
      `the official pipeline did not run with ${values.python}: ${(error as Error).message.slice(0, 2000)}\n` +
        'Install the Python side as docs/export.md says ("Proving the engine"), or name its python with --python.',
    );
    process.exit(1);
  }
}

async function ours(): Promise<{ frames: number; seconds: number[]; framesPerSecond: number }> {
  const directory = path.resolve(values.model!);
  const manifest = await readQwen3Manifest(directory);
  const key = manifest.modelKey;
  const cache = mkdtempSync(path.join(tmpdir(), 'bench-official-'));
  const engine = new Qwen3OnnxEngine(
    loadConfig({
      [key === 'base_1.7b' ? 'MODEL_1_7B_BASE' : 'MODEL_0_6B_BASE']: directory,
      CACHE_DIR: cache,
      TTS_DEVICE: 'cpu',
      TTS_THREADS: String(threads),
      TTS_WORKERS: '1',
    }),
  );
  try {
    await engine.loadModel(key);
    const wav = decodeWav(readFileSync(REFERENCE));
    const samples = resample(wav.samples, wav.sampleRate, 24000);
    const speak = async (run: number, maxFrames: number) => {
      const startedAt = performance.now();
      const signal = AbortSignal.timeout(3 * 3600 * 1000);
      // A new hash each run: the voice prompt is computed every time, as generate_voice_clone does.
      const reference = { samples, sampleRate: 24000 as const, hash: `bench-official-${run}` };
      const voice = await engine.prepareVoice(
        { model: key, reference, referenceText: REFERENCE_TEXT, xVectorOnly: false },
        signal,
      );
      let made = 0;
      for await (const part of engine.generate(
        {
          model: key,
          text: TEXT,
          language: 'Korean',
          voice,
          sampling: { seed: 0, maxNewTokens: maxFrames, doSample: false, subtalker: { doSample: false } },
          streaming: false,
        },
        signal,
      ))
        if (part.type === 'audio-end') made = part.frames ?? 0;
      return { frames: made, seconds: (performance.now() - startedAt) / 1000 };
    };
    await speak(-1, 4); // warm-up, as on the official side
    const timed = [];
    for (let run = 0; run < runs; run += 1) timed.push(await speak(run, frames));
    const seconds = timed.map((run) => run.seconds);
    return { frames: timed[0].frames, seconds, framesPerSecond: timed[0].frames / Math.min(...seconds) };
  } finally {
    await engine.close();
    rmSync(cache, { recursive: true, force: true });
  }
}

console.log(`${TEXT} — greedy, at most ${frames} frames, ${threads} threads, ${runs} runs after a warm-up`);
const ourFigures = await ours();
console.log(
  `ours:     ${ourFigures.frames} frames in ${ourFigures.seconds.map((s) => s.toFixed(1)).join(' / ')} s → ${ourFigures.framesPerSecond.toFixed(2)} frames/s`,
);
const theirFigures = await official();
console.log(
  `official: ${theirFigures.frames} frames in ${theirFigures.seconds.map((s) => s.toFixed(1)).join(' / ')} s → ${theirFigures.framesPerSecond.toFixed(2)} frames/s`,
);
console.log(
  `ratio (ours / official, frames per second, best runs): ${(ourFigures.framesPerSecond / theirFigures.framesPerSecond).toFixed(2)}×`,
);
