import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { decodeWav } from '../../../src/audio/wav.ts';
import { loadConfig } from '../../../src/config.ts';
import { decodeLikeOfficial } from '../../../src/engines/qwen3-onnx/codec-decoding.ts';
import { Qwen3OnnxEngine } from '../../../src/engines/qwen3-onnx/engine.ts';
import { Qwen3ModelRuntime } from '../../../src/engines/qwen3-onnx/model-runtime.ts';
import type { VoiceData } from '../../../src/engines/qwen3-onnx/prompt.ts';
import { SeededRandom } from '../../../src/engines/qwen3-onnx/random.ts';
import { StreamedDecoding } from '../../../src/engines/qwen3-onnx/streamed-decoding.ts';
import { probabilitiesOf, TalkerSampler } from '../../../src/engines/qwen3-onnx/sampler.ts';
import type { Language, SpeechStreamPart, VoicePrompt } from '../../../src/engines/interfaces/index.ts';
import { chooseProvider } from '../../../src/onnx/session-options.ts';
import {
  OFFICIAL_SHAPES,
  officialModel,
  readGoldenFloats,
  readGoldens,
  REFERENCE_WAV,
  type GoldenCase,
  type Goldens,
} from '../../support/official-qwen3.ts';
import { collectSpeechStream, joinAudio } from '../../support/speech-stream.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

/**
 * The proof that the engine computes what the official Qwen3-TTS code computes: checkpoints built with
 * the official classes (a 0.6B-shaped one, and a 1.7B-shaped one whose talker and code predictor
 * differ in width), exported by our exporter, against the official `generate_voice_clone` outputs
 * (test/fixtures/qwen3-official, made by tools/export/qwen3/make_fixtures.sh).
 *
 * Tolerances: codes are compared exactly. The golden audio is 16-bit (soundfile: ×32767, rounded);
 * ours is float32 from the same codes through our decoder graph, so they may differ by the 16-bit
 * step and rounding: at most 2/32768 per sample.
 */
const AUDIO_TOLERANCE = 2 / 32768;

function maxDifference(ours: Float32Array, official: Float32Array): number {
  let largest = 0;
  for (let index = 0; index < official.length; index += 1)
    largest = Math.max(largest, Math.abs(ours[index] - official[index]));
  return largest;
}

function referenceSamples(): Float32Array {
  return decodeWav(readFileSync(REFERENCE_WAV)).samples;
}

async function collect(
  stream: AsyncIterable<SpeechStreamPart>,
): Promise<{ audio: Float32Array; codes: number[][] }> {
  const { audio, end } = await collectSpeechStream(stream);
  const codes = end.codes;
  assert.ok(codes, 'the engine reported its codes');
  return {
    audio,
    codes: Array.from({ length: codes.length / 16 }, (_row, frame) => [
      ...codes.subarray(frame * 16, frame * 16 + 16),
    ]),
  };
}

for (const shape of OFFICIAL_SHAPES) {
  describe(`the embedded engine against the official code (${shape}-shaped checkpoint)`, () => {
    let goldens: Goldens;
    let engine: Qwen3OnnxEngine;
    const voices: Partial<Record<GoldenCase['mode'], VoicePrompt>> = {};

    before(async () => {
      goldens = await readGoldens(shape);
      const directory = await officialModel(shape);
      engine = new Qwen3OnnxEngine(
        loadConfig({
          [shape === 'base_0.6b' ? 'MODEL_0_6B_BASE' : 'MODEL_1_7B_BASE']: directory,
          CACHE_DIR: temporaryDirectory('official-voices-'),
          TTS_WORKERS: '1',
        }),
      );
      const samples = referenceSamples();
      for (const mode of ['icl', 'xvector'] as const) {
        voices[mode] = await engine.prepareVoice(
          {
            model: shape,
            reference: { samples, sampleRate: 24000, hash: `official-reference-${shape}` },
            referenceText: goldens.reference.text,
            xVectorOnly: mode === 'xvector',
          },
          AbortSignal.timeout(60000),
        );
      }
    });
    after(async () => engine?.close());

    it('encodes the reference and its speaker embedding as the official code does', () => {
      const voice = voices.icl!.data as VoiceData;
      const codes = Array.from({ length: voice.referenceFrames }, (_row, frame) => [
        ...voice.referenceCodes.subarray(frame * 16, frame * 16 + 16),
      ]);
      assert.deepEqual(
        codes,
        goldens.reference.codes,
        'reference codes (Mimi encoder, last partial frame included)',
      );
      const official = Float32Array.from(goldens.reference.speakerEmbedding);
      const scale = Math.max(...official.map(Math.abs));
      assert.ok(
        maxDifference(voice.speakerEmbedding, official) <= 1e-4 * scale,
        'speaker embedding within 1e-4 of its scale',
      );
    });

    it('the golden set covers both ways an utterance ends', () => {
      const endings = new Set(goldens.cases.map((entry) => entry.endedWithEos));
      assert.deepEqual([...endings].sort(), [false, true]);
    });

    for (const mode of ['icl', 'xvector'] as const) {
      it(`generates the official codes and audio, greedy, ${mode === 'icl' ? 'ICL' : 'x-vector-only'} mode`, async () => {
        for (const entry of goldens.cases.filter((candidate) => candidate.mode === mode)) {
          const { audio, codes } = await collect(
            engine.generate(
              {
                model: shape,
                text: entry.text,
                language: entry.language as Language,
                voice: voices[mode]!,
                sampling: {
                  seed: 0,
                  doSample: false,
                  subtalker: { doSample: false },
                  maxNewTokens: entry.maxNewTokens,
                },
                streaming: false,
              },
              AbortSignal.timeout(60000),
            ),
          );
          assert.deepEqual(codes, entry.codes, `${entry.name}: codes`);
          const official = await readGoldenFloats(shape, entry.audio.file);
          assert.equal(audio.length, official.length, `${entry.name}: audio length`);
          const difference = maxDifference(audio, official);
          assert.ok(difference <= AUDIO_TOLERANCE, `${entry.name}: audio differs by ${difference}`);
        }
      });
    }

    it('streams the same codes and the official audio (codec_decoder_step, reference frames first)', async () => {
      const entry = goldens.cases.find(
        (candidate) => candidate.mode === 'icl' && candidate.codes.length > 16,
      )!;
      const { audio, codes } = await collect(
        engine.generate(
          {
            model: shape,
            text: entry.text,
            language: entry.language as Language,
            voice: voices.icl!,
            sampling: {
              seed: 0,
              doSample: false,
              subtalker: { doSample: false },
              maxNewTokens: entry.maxNewTokens,
            },
            streaming: true,
          },
          AbortSignal.timeout(60000),
        ),
      );
      assert.deepEqual(codes, entry.codes);
      const official = await readGoldenFloats(shape, entry.audio.file);
      assert.equal(audio.length, official.length);
      // The fixture has codec_decoder_step: each piece carries the decoder's state, so the stream is
      // the official one-shot decode (one chunk: under 300 frames), up to the golden's 16-bit rounding.
      const difference = maxDifference(audio, official);
      assert.ok(
        difference <= AUDIO_TOLERANCE,
        `streamed audio differs from the official decode by ${difference}`,
      );
    });

    it("chooses each frame's first code from the official processed distribution (sampled run)", async () => {
      const { sampled } = goldens;
      const raw = await readGoldenFloats(shape, sampled.rawLogits.file);
      const sampler = new TalkerSampler({
        vocabSize: sampled.vocabSize,
        eosId: 2150,
        suppressFrom: sampled.vocabSize - 1024,
        minNewTokens: 2,
        repetitionPenalty: sampled.repetition_penalty,
        temperature: sampled.temperature,
        topK: sampled.top_k,
        topP: sampled.top_p,
        doSample: true,
        random: new SeededRandom(0),
      });
      sampled.steps.forEach((step, index) => {
        const logits = raw.subarray(index * sampled.vocabSize, (index + 1) * sampled.vocabSize);
        const probabilities = probabilitiesOf(sampler.scores(logits));
        const support = [...probabilities.keys()].filter((token) => probabilities[token] > 0);
        assert.deepEqual(
          support,
          Object.keys(step.probabilities).map(Number),
          `step ${index}: the tokens that can be chosen`,
        );
        for (const [token, probability] of Object.entries(step.probabilities))
          assert.ok(
            Math.abs(probabilities[Number(token)] - probability) < 1e-5,
            `step ${index}, token ${token}`,
          );
        sampler.accept(step.token);
      });
    });

    it('samples residual codes from the official sub-talker distribution (top-k, top-p, temperature)', async () => {
      const { sampled } = goldens;
      const runtime = await Qwen3ModelRuntime.load(
        await officialModel(shape),
        'float32',
        chooseProvider('cpu', { threads: 1 }),
      );
      try {
        const { hidden, firstCode, probabilities } = sampled.subtalkerFirstStep;
        const random = new SeededRandom(3);
        const noise = new Float32Array(15 * 2048);
        const draws = 3000;
        const counts = new Map<number, number>();
        for (let draw = 0; draw < draws; draw += 1) {
          random.fillUniform(noise);
          const codes = await runtime.predictCodes(
            Float32Array.from(hidden),
            firstCode,
            {
              temperature: sampled.subtalker_temperature,
              topK: sampled.subtalker_top_k,
              topP: sampled.subtalker_top_p,
            },
            noise,
          );
          const code = Number(codes[0]);
          counts.set(code, (counts.get(code) ?? 0) + 1);
        }
        for (const code of counts.keys())
          assert.ok(String(code) in probabilities, `code ${code} is outside the official top-k/top-p set`);
        let variation = 0;
        for (const [code, probability] of Object.entries(probabilities))
          variation += Math.abs((counts.get(Number(code)) ?? 0) / draws - probability);
        assert.ok(variation / 2 < 0.05, `total variation ${variation / 2} from the official distribution`);
      } finally {
        await runtime.release();
      }
    });

    if (shape === 'base_0.6b') {
      it('decodes longer utterances in the official 300-frame chunks with 25 frames of context', async () => {
        const chunked = goldens.chunkedDecode!;
        const runtime = await Qwen3ModelRuntime.load(
          await officialModel(shape),
          'float32',
          chooseProvider('cpu', { threads: 1 }),
        );
        try {
          const codes = Int32Array.from(chunked.codes.flat());
          const totalFrames = chunked.codes.length;
          const decode = async (window: Int32Array, frames: number, context: number) =>
            (await runtime.decoder.decode(window, frames, context)).samples;
          // As a request that is not streamed decodes: each chunk through codec_decoder_step beside
          // generation (here all handed over at once), the second from the state after its context.
          const beside = new StreamedDecoding(
            runtime.manifest,
            runtime.decoder,
            codes,
            chunked.referenceFrames,
            {},
            true,
          );
          const ways = {
            'the official chunks': decodeLikeOfficial(
              runtime.manifest,
              decode,
              codes,
              totalFrames,
              chunked.referenceFrames,
            ),
            'beside generation': beside.officialAudio(totalFrames),
          };
          try {
            for (const [way, decoded] of Object.entries(ways)) {
              const parts: Float32Array[] = [];
              for await (const part of decoded) parts.push(part);
              const audio = joinAudio(parts);
              assert.equal(audio.length, chunked.samples, way);
              for (const excerpt of chunked.excerpts) {
                const official = await readGoldenFloats(shape, excerpt.audio.file);
                const ours = audio.subarray(excerpt.startSample, excerpt.startSample + official.length);
                const difference = maxDifference(ours, official);
                assert.ok(
                  difference < 1e-5,
                  `${way}: samples from ${excerpt.startSample} differ by ${difference}`,
                );
              }
            }
          } finally {
            beside.close();
          }
        } finally {
          await runtime.release();
        }
      });
    }
  });
}
