import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeWav } from '../../src/audio/wav.ts';
import { Qwen3OnnxEngine } from '../../src/engines/qwen3-onnx/engine.ts';
import { buildTestApp, parseSse, SEED_BODY, type TestApp } from '../helper.ts';
import { ESPEAK_SKIP, speakKorean } from '../support/espeak.ts';
import { syntheticQwen3 } from '../support/synthetic-models.ts';

/** The whole product path: HTTP → core → the embedded engine's workers → a synthetic model. */
describe('the seed API served by the embedded engine', () => {
  let test: TestApp;
  before(async () => {
    // This model never says end-of-speech, so max_new_tokens decides each utterance's length.
    const directory = await syntheticQwen3({ eosPosition: 1_000_000 });
    test = await buildTestApp({
      configuredEngine: true,
      // No result cache: a repeated seed must go through the whole loop again to prove it reproducible.
      environment: { MODEL_0_6B_BASE: directory, TTS_WORKERS: '1', SPEECH_CACHE_MB: '0' },
    });
  });
  after(async () => test.close());

  it('loads the default model at startup', async () => {
    const health = (await test.app.inject({ method: 'GET', url: '/health' })).json();
    assert.deepEqual(health.models_loaded, ['base_0.6b']);
    assert.equal(health.engine.name, 'qwen3-onnx');
    // Its manifest says synthetic: /health and /info say it speaks noise.
    assert.deepEqual(health.synthetic_models, ['base_0.6b']);
    const info = (await test.app.inject({ method: 'GET', url: '/info' })).json();
    assert.deepEqual(info.synthetic_models, ['base_0.6b']);
    assert.equal(info.models[0].synthetic, true);
  });

  it("answers the guide's curl example with WAV audio from the full loop, reproducibly per seed", async () => {
    const post = (seed: number) =>
      test.app.inject({
        method: 'POST',
        url: '/tts/voice_clone?model_size=0.6b',
        payload: { ...SEED_BODY, seed, generation_params: { max_new_tokens: 40 } },
      });
    const first = await post(11);
    assert.equal(first.statusCode, 200, first.statusCode === 200 ? '' : first.body);
    const wav = decodeWav(first.rawPayload);
    assert.equal(wav.sampleRate, 24000);
    assert.ok(wav.samples.length > 24000, 'more than a second of speech for three sentences');
    assert.deepEqual((await post(11)).rawPayload, first.rawPayload);
    assert.notDeepEqual((await post(12)).rawPayload, first.rawPayload);
  });

  it('streams SSE audio events from the engine', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/tts/voice_clone/sse?model_size=0.6b',
      payload: { ...SEED_BODY, generation_params: { max_new_tokens: 40 } },
    });
    const events = parseSse(response.body);
    assert.ok(events.filter((event) => event.event === 'audio').length >= 3);
    assert.equal(events.at(-1)!.event, 'done');
  });

  it('answers 503 for the model that is not installed', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/tts/voice_clone?model_size=1.7b',
      payload: SEED_BODY,
    });
    assert.equal(response.statusCode, 503);
    assert.match(response.json().detail, /models pull base_1\.7b/);
    const load = await test.app.inject({ method: 'POST', url: '/load/base_1.7b' });
    assert.equal(load.statusCode, 503);
    assert.match(load.json().detail, /models pull base_1\.7b/);
    assert.match(load.json().detail, /models synth base_1\.7b --out \S+/);
  });

  it('clones from real Korean speech', { skip: ESPEAK_SKIP }, async () => {
    const reference = speakKorean('안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다.');
    const response = await test.app.inject({
      method: 'POST',
      url: '/tts/voice_clone',
      payload: {
        ...SEED_BODY,
        ref_audio: `data:audio/wav;base64,${reference.toString('base64')}`,
        generation_params: { max_new_tokens: 40 },
      },
    });
    assert.equal(response.statusCode, 200, response.statusCode === 200 ? '' : response.body);
    assert.ok(decodeWav(response.rawPayload).samples.length > 0);
  });

  it('answers /health quickly while a long synthesis runs, the event loop never stalling', async () => {
    let maximumGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      maximumGap = Math.max(maximumGap, now - last);
      last = now;
    }, 5);
    const startedAt = performance.now();
    const long = test.app.inject({
      method: 'POST',
      url: '/tts/voice_clone',
      payload: { ...SEED_BODY, split_sentences: false, generation_params: { max_new_tokens: 700 } },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const latencies: number[] = [];
    for (let probe = 0; probe < 5; probe += 1) {
      const startedAt = performance.now();
      assert.equal((await test.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      latencies.push(performance.now() - startedAt);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const response = await long;
    clearInterval(ticker);
    assert.equal(response.statusCode, 200);
    assert.ok(performance.now() - startedAt > 500, 'the synthesis was long enough to matter');
    assert.ok(Math.max(...latencies) < 50, `health took ${Math.max(...latencies).toFixed(1)} ms`);
    assert.ok(maximumGap < 50, `the event loop stalled for ${maximumGap.toFixed(1)} ms`);
    assert.ok(test.engine instanceof Qwen3OnnxEngine);
  });
});
