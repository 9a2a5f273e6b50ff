/**
 * The speed of a model directory's precision variants side by side, through the embedded engine
 * (one worker): model load, voice prompt, and generation (codes and decoding) per variant, greedy,
 * the variants interleaved run by run so that a busy neighbour on the CPUs slows them alike.
 *
 *   npx tsx bench/qwen3-variants.ts --model <dir> --voice <wav> --ref-text "…" --text "…" \
 *     --language Korean --variants float32,int8,int4 --runs 2 --max-new-tokens 40
 *
 * Greedy codes also show each variant's drift from the first one named (frames identical).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeWav } from '../src/audio/wav.ts';
import { loadConfig } from '../src/config.ts';
import type { Language } from '../src/engines/interfaces/index.ts';
import { Qwen3OnnxEngine } from '../src/engines/qwen3-onnx/engine.ts';
import { readQwen3Manifest } from '../src/models/qwen3-manifest.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    voice: { type: 'string' },
    'ref-text': { type: 'string', default: '' },
    text: { type: 'string', default: 'Hello, this is a speed check.' },
    language: { type: 'string', default: 'English' },
    variants: { type: 'string', default: 'float32,int8,int4' },
    runs: { type: 'string', default: '2' },
    'max-new-tokens': { type: 'string', default: '40' },
    threads: { type: 'string', default: '0' },
  },
});
if (!values.model || !values.voice) {
  console.error('--model <dir> and --voice <24 kHz WAV> are needed');
  process.exit(2);
}
const directory = path.resolve(values.model);
const manifest = await readQwen3Manifest(directory);
const variants = values.variants.split(',') as ('float32' | 'float16' | 'int8' | 'int4')[];
const reference = decodeWav(readFileSync(values.voice));
if (reference.sampleRate !== 24000) {
  console.error(`${values.voice} is ${reference.sampleRate} Hz: give a 24 kHz WAV`);
  process.exit(2);
}
const variable = manifest.modelKey === 'base_1.7b' ? 'MODEL_1_7B_BASE' : 'MODEL_0_6B_BASE';
const rows: {
  variant: string;
  run: number;
  loadS: number;
  voiceS: number;
  generateS: number;
  frames: number;
  same?: string;
}[] = [];
const firstCodes = new Map<number, Int32Array>();

for (let run = 1; run <= Number(values.runs); run += 1) {
  for (const variant of variants) {
    const cache = mkdtempSync(path.join(tmpdir(), 'qwen3-variants-'));
    const engine = new Qwen3OnnxEngine(
      loadConfig({
        [variable]: directory,
        TTS_DTYPE: variant,
        TTS_DEVICE: 'cpu',
        TTS_THREADS: values.threads,
        TTS_WORKERS: '1',
        CACHE_DIR: cache,
        TTS_DEFAULT_MODEL: 'none',
      }),
    );
    try {
      let started = performance.now();
      await engine.loadModel(manifest.modelKey);
      const loadS = (performance.now() - started) / 1000;
      started = performance.now();
      const voice = await engine.prepareVoice(
        {
          model: manifest.modelKey,
          reference: { samples: reference.samples, sampleRate: 24000, hash: `bench-${variant}` },
          referenceText: values['ref-text'],
          xVectorOnly: !values['ref-text'],
        },
        AbortSignal.timeout(600_000),
      );
      const voiceS = (performance.now() - started) / 1000;
      started = performance.now();
      let codes: Int32Array | undefined;
      let frames = 0;
      for await (const part of engine.generate(
        {
          model: manifest.modelKey,
          text: values.text,
          language: values.language as Language,
          voice,
          sampling: {
            seed: 0,
            doSample: false,
            subtalker: { doSample: false },
            maxNewTokens: Number(values['max-new-tokens']),
          },
          streaming: false,
        },
        AbortSignal.timeout(600_000),
      )) {
        if (part.type === 'audio-end') {
          codes = part.codes;
          frames = part.frames ?? 0;
        }
      }
      const generateS = (performance.now() - started) / 1000;
      let same: string | undefined;
      if (codes) {
        if (variant === variants[0]) firstCodes.set(run, codes);
        else {
          const base = firstCodes.get(run);
          const groups = manifest.dimensions.codeGroups;
          if (base) {
            let identical = 0;
            const compared = Math.min(base.length, codes.length) / groups;
            for (let frame = 0; frame < compared; frame += 1) {
              const start = frame * groups;
              if (codes.subarray(start, start + groups).every((code, group) => code === base[start + group]))
                identical += 1;
            }
            same = `${identical}/${compared}`;
          }
        }
      }
      rows.push({ variant, run, loadS, voiceS, generateS, frames, same });
      const audioS = frames / 12.5;
      console.log(
        `${variant.padEnd(8)} run ${run}: load ${loadS.toFixed(1)} s, voice ${voiceS.toFixed(2)} s, ` +
          `generate ${generateS.toFixed(2)} s for ${frames} frames (${(frames / generateS).toFixed(2)} frames/s, ` +
          `RTF ${(generateS / audioS).toFixed(2)})${same ? `, frames identical to ${variants[0]}: ${same}` : ''}`,
      );
    } finally {
      await engine.close();
      rmSync(cache, { recursive: true, force: true });
    }
  }
}
