import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { decodeWav } from '../../src/audio/wav.ts';
import { buildTestApp, type TestApp } from '../helper.ts';
import {
  OFFICIAL_SHAPES,
  officialModel,
  readGoldenFloats,
  readGoldens,
  REFERENCE_WAV,
} from '../support/official-qwen3.ts';

/**
 * The whole product path — HTTP, reference decoding, tokenizer, prompt, talker and code-predictor loop,
 * decoding, WAV encoding — on checkpoints built with the official classes, against the official
 * `generate_voice_clone` (see test/engines/qwen3-onnx/official-parity.test.ts for the codes). Both
 * sides are 16-bit WAV here: they may differ by each side's rounding plus float error, 3/32768.
 */
describe('POST /tts/voice_clone against the official code', () => {
  let test: TestApp;
  const reference = `data:audio/wav;base64,${readFileSync(REFERENCE_WAV).toString('base64')}`;
  before(async () => {
    test = await buildTestApp({
      configuredEngine: true,
      environment: {
        MODEL_0_6B_BASE: await officialModel('base_0.6b'),
        MODEL_1_7B_BASE: await officialModel('base_1.7b'),
        TTS_DEFAULT_MODEL: 'base_0.6b',
        TTS_WORKERS: '1',
        SPEECH_CACHE_MB: '0',
      },
    });
  });
  after(async () => test?.close());

  for (const shape of OFFICIAL_SHAPES) {
    it(`answers the official audio for every golden case (${shape})`, async () => {
      const goldens = await readGoldens(shape);
      for (const entry of goldens.cases) {
        const response = await test.app.inject({
          method: 'POST',
          url: `/tts/voice_clone?model_size=${shape === 'base_0.6b' ? '0.6b' : '1.7b'}`,
          payload: {
            text: entry.text,
            language: entry.language,
            ref_audio: reference,
            ref_text: goldens.reference.text,
            x_vector_only_mode: entry.mode === 'xvector',
            normalize: false,
            split_sentences: false,
            generation_params: {
              do_sample: false,
              subtalker_dosample: false,
              max_new_tokens: entry.maxNewTokens,
            },
          },
        });
        assert.equal(response.statusCode, 200, response.body.slice(0, 300));
        const ours = decodeWav(response.rawPayload).samples;
        const official = await readGoldenFloats(shape, entry.audio.file);
        assert.equal(ours.length, official.length, entry.name);
        let largest = 0;
        for (let index = 0; index < ours.length; index += 1)
          largest = Math.max(largest, Math.abs(ours[index] - official[index]));
        assert.ok(largest <= 3 / 32768, `${entry.name}: differs by ${largest * 32768} steps of 16 bits`);
      }
    });
  }
});
