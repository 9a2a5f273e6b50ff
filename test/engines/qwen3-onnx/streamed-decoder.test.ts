import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import { Qwen3OnnxEngine } from '../../../src/engines/qwen3-onnx/engine.ts';
import type { SpeechRequest, VoicePrompt } from '../../../src/engines/interfaces/index.ts';
import { syntheticQwen3 } from '../../support/synthetic-models.ts';
import { collectSpeechStream } from '../../support/speech-stream.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

const sampling = {
  seed: 3,
  temperature: 0.9,
  topK: 50,
  topP: 1,
  repetitionPenalty: 1.05,
  doSample: true,
  maxNewTokens: 2048,
};

function largestDifference(ours: Float32Array, reference: Float32Array): number {
  let largest = 0;
  for (let index = 0; index < reference.length; index += 1)
    largest = Math.max(largest, Math.abs(ours[index] - reference[index]));
  return largest;
}

/**
 * Streaming through codec_decoder_step equals one decode of the reference and generated frames (the
 * non-streamed path: under 300 frames that is one official chunk), on a synthetic model whose two
 * decoder graphs share their weights. Models without the step graph keep the windowed path.
 */
for (const withStep of [true, false]) {
  describe(`streamed decoding on a synthetic model ${withStep ? 'with' : 'without'} codec_decoder_step`, () => {
    let engine: Qwen3OnnxEngine;
    let directory: string;
    let cacheDirectory: string;
    const voices: Partial<Record<'icl' | 'xvector', VoicePrompt>> = {};
    const request = (voice: VoicePrompt, overrides: Partial<SpeechRequest> = {}): SpeechRequest => ({
      model: 'base_0.6b',
      text: '안녕하세요. 면접을 시작하겠습니다.',
      language: 'Korean',
      voice,
      sampling,
      streaming: true,
      ...overrides,
    });

    before(async () => {
      // End of speech at position 100: about 50 generated frames after a 38-frame reference, more
      // than the decoder's attention window (72) in all.
      directory = await syntheticQwen3({ eosPosition: 100, decoderStep: withStep });
      cacheDirectory = temporaryDirectory('step-voices-');
      engine = new Qwen3OnnxEngine(
        loadConfig({ MODEL_0_6B_BASE: directory, CACHE_DIR: cacheDirectory, TTS_WORKERS: '1' }),
      );
      await engine.loadModel('base_0.6b');
      const samples = Float32Array.from(
        { length: 24000 * 3 },
        (_value, index) => 0.3 * Math.sin(index / 7) * (0.6 + 0.4 * Math.sin(index / 4000)),
      );
      for (const mode of ['icl', 'xvector'] as const)
        voices[mode] = await engine.prepareVoice(
          {
            model: 'base_0.6b',
            reference: { samples, sampleRate: 24000, hash: `step-test-${withStep}` },
            referenceText: '안녕하세요, 반갑습니다.',
            xVectorOnly: mode === 'xvector',
          },
          AbortSignal.timeout(120000),
        );
    });
    after(async () => {
      await engine?.close();
      rmSync(directory, { recursive: true, force: true });
      rmSync(cacheDirectory, { recursive: true, force: true });
    });

    for (const mode of withStep ? (['icl', 'xvector'] as const) : (['icl'] as const)) {
      it(`streams the audio of the one-shot decode (${mode === 'icl' ? 'ICL: reference frames first' : 'x-vector only'})`, async () => {
        const voice = voices[mode]!;
        const whole = await collectSpeechStream(
          engine.generate(request(voice, { streaming: false }), AbortSignal.timeout(240000)),
        );
        const pieces = await collectSpeechStream(
          engine.generate(request(voice), AbortSignal.timeout(240000)),
        );
        assert.equal(pieces.audio.length, whole.audio.length);
        assert.ok(pieces.parts > 3, `${pieces.parts} parts`);
        const difference = largestDifference(pieces.audio, whole.audio);
        // The step graph is exact; the windowed path only approximates (its context is 72 frames).
        if (withStep) assert.ok(difference < 1e-5, `streamed audio differs by ${difference}`);
        else assert.ok(difference < 0.5, `windowed streaming differs by ${difference}`);
      });
    }

    it(
      "starts a voice's later streams from its decoder state after the reference, with the same audio",
      { skip: !withStep },
      async () => {
        const voice = voices.icl!;
        const first = await collectSpeechStream(engine.generate(request(voice), AbortSignal.timeout(240000)));
        const second = await collectSpeechStream(
          engine.generate(request(voice), AbortSignal.timeout(240000)),
        );
        assert.equal(second.end.timings?.referenceDecodeFrames, 0, 'the kept state was used');
        assert.equal(largestDifference(second.audio, first.audio), 0);
      },
    );

    it(
      'streams a first piece of one frame, then pieces of 2, with the same audio (and no kept state)',
      { skip: !withStep },
      async () => {
        const voice = voices.icl!;
        const reference = await collectSpeechStream(
          engine.generate(request(voice), AbortSignal.timeout(240000)),
        );
        const smallPieces = new Qwen3OnnxEngine(
          loadConfig({
            MODEL_0_6B_BASE: directory,
            CACHE_DIR: cacheDirectory,
            TTS_WORKERS: '1',
            TTS_DECODER_STATES: '0',
          }),
          undefined,
          { firstChunkFrames: 1, chunkFrames: 2 },
        );
        try {
          await smallPieces.loadModel('base_0.6b');
          for (let run = 0; run < 2; run += 1) {
            const small = await collectSpeechStream(
              smallPieces.generate(request(voice), AbortSignal.timeout(240000)),
            );
            assert.ok(Number(small.end.timings?.referenceDecodeFrames) > 30, 'the reference was decoded');
            assert.equal(small.audio.length, reference.audio.length);
            assert.ok(small.parts > reference.parts, `${small.parts} parts against ${reference.parts}`);
            const difference = largestDifference(small.audio, reference.audio);
            assert.ok(difference < 1e-5, `differs by ${difference}`);
          }
        } finally {
          await smallPieces.close();
        }
      },
    );
  });
}
