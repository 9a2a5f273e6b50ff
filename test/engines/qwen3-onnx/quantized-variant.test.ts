import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeWav } from '../../../src/audio/wav.ts';
import { loadConfig } from '../../../src/config.ts';
import { Qwen3OnnxEngine } from '../../../src/engines/qwen3-onnx/engine.ts';
import type { Language, SpeechStreamPart } from '../../../src/engines/interfaces/index.ts';
import { QWEN3_GRAPHS } from '../../../src/models/qwen3-manifest.ts';
import { quantizeOnnxModel } from '../../../src/onnx/matmul-nbits.ts';
import { officialModel, readGoldens, REFERENCE_WAV, type Goldens } from '../../support/official-qwen3.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

/**
 * An int4 / int8 variant (weight-only MatMulNBits in the talker and the code predictor, float32
 * everywhere else) of the 0.6B-shaped official fixture, made here with the TypeScript quantizer,
 * loads and speaks through the engine with TTS_DTYPE set to it. Its codes may drift from float32's
 * (random tiny weights have small logit margins), so only the shape of the result is checked, and
 * the drift is printed.
 */
async function withQuantizedVariants(): Promise<string> {
  const source = await officialModel('base_0.6b');
  const directory = temporaryDirectory('qwen3-quantized-');
  symlinkSync(path.join(source, 'float32'), path.join(directory, 'float32'), 'dir');
  symlinkSync(path.join(source, 'tokenizer'), path.join(directory, 'tokenizer'), 'dir');
  const manifest = JSON.parse(await readFile(path.join(source, 'manifest.json'), 'utf8')) as {
    variants: Record<string, unknown>;
  };
  for (const [variant, bits] of [
    ['int4', 4],
    ['int8', 8],
  ] as const) {
    await mkdir(path.join(directory, variant));
    for (const graph of QWEN3_GRAPHS) {
      const file = path.join(source, 'float32', `${graph}.onnx`);
      if (graph === 'talker' || graph === 'code_predictor') {
        const { model, quantized } = quantizeOnnxModel(readFileSync(file), {
          bits,
          blockSize: 16,
          keep: (name) => /^\/heads?(\.\d+)?\/MatMul$/.test(name),
        });
        assert.ok(quantized > 0, `${graph}: some matmuls quantized`);
        await writeFile(path.join(directory, variant, `${graph}.onnx`), model);
      } else symlinkSync(file, path.join(directory, variant, `${graph}.onnx`));
    }
    // The streamed decoder is a codec graph: float32 in every variant, as quantize.py copies it.
    const step = path.join(source, 'float32', 'codec_decoder_step.onnx');
    if (existsSync(step)) symlinkSync(step, path.join(directory, variant, 'codec_decoder_step.onnx'));
    for (const table of ['codec_embedding.bin', 'residual_embeddings.bin'])
      symlinkSync(path.join(source, 'float32', table), path.join(directory, variant, table));
    manifest.variants[variant] = { directory: variant, dtype: variant };
  }
  await writeFile(path.join(directory, 'manifest.json'), JSON.stringify(manifest));
  return directory;
}

/** Enough frames to exercise every graph; the test stays a few seconds long. */
const MAX_NEW_TOKENS = 9;

async function speak(engine: Qwen3OnnxEngine, goldens: Goldens) {
  const entry = goldens.cases.find((candidate) => candidate.mode === 'icl')!;
  const voice = await engine.prepareVoice(
    {
      model: 'base_0.6b',
      reference: {
        samples: decodeWav(readFileSync(REFERENCE_WAV)).samples,
        sampleRate: 24000,
        hash: 'quantized',
      },
      referenceText: goldens.reference.text,
      xVectorOnly: false,
    },
    AbortSignal.timeout(60000),
  );
  let samples = 0;
  let codes: Int32Array | undefined;
  const stream: AsyncIterable<SpeechStreamPart> = engine.generate(
    {
      model: 'base_0.6b',
      text: entry.text,
      language: entry.language as Language,
      voice,
      sampling: {
        seed: 0,
        doSample: false,
        subtalker: { doSample: false },
        maxNewTokens: Math.min(entry.maxNewTokens, MAX_NEW_TOKENS),
      },
      streaming: false,
    },
    AbortSignal.timeout(60000),
  );
  for await (const part of stream) {
    if (part.type === 'audio-delta') {
      samples += part.samples.length;
      assert.ok(part.samples.every(Number.isFinite), 'finite samples');
    }
    if (part.type === 'audio-end') codes = part.codes;
  }
  assert.ok(codes && codes.length > 0, 'codes reported');
  return { samples, codes: codes, golden: entry.codes };
}

describe('quantized variants (TTS_DTYPE=int4 / int8) in the engine', () => {
  let directory: string;
  let goldens: Goldens;
  const cleanup: string[] = [];
  before(async () => {
    directory = await withQuantizedVariants();
    cleanup.push(directory);
    goldens = await readGoldens('base_0.6b');
  });
  after(async () => {
    for (const entry of cleanup) await rm(entry, { recursive: true, force: true });
  });

  for (const dtype of ['int4', 'int8'] as const) {
    it(`loads the ${dtype} variant and speaks with float32 inputs, outputs and tables`, async () => {
      const cache = temporaryDirectory('qwen3-quantized-voices-');
      cleanup.push(cache);
      const engine = new Qwen3OnnxEngine(
        loadConfig({ MODEL_0_6B_BASE: directory, TTS_DTYPE: dtype, CACHE_DIR: cache, TTS_WORKERS: '1' }),
      );
      try {
        const { samples, codes, golden } = await speak(engine, goldens);
        const frames = codes.length / 16;
        assert.equal(samples, frames * 1920, 'one frame of audio per frame of codes');
        const compared = golden.slice(0, frames);
        const firstSame = compared.filter((row, frame) => codes[frame * 16] === row[0]).length;
        const same = compared.filter((row, frame) =>
          row.every((code, group) => codes[frame * 16 + group] === code),
        ).length;
        console.log(
          `${dtype}: of ${compared.length} frames, ${firstSame} first codes and ${same} whole frames equal float32's (tiny random weights)`,
        );
      } finally {
        await engine.close();
      }
    });
  }
});
