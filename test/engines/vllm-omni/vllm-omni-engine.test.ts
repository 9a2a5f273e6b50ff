import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { decodeWav } from '../../../src/audio/wav.ts';
import { loadConfig } from '../../../src/config.ts';
import { VllmOmniEngine, modelKeyOfServedModel } from '../../../src/engines/vllm-omni/engine.ts';
import { Pcm16Decoder } from '../../../src/engines/vllm-omni/pcm-decoder.ts';
import { EngineFailedError } from '../../../src/errors.ts';
import { buildTestApp, parseSse, SEED_BODY, type TestApp } from '../../helper.ts';
import { startFakeVllmOmni, type FakeVllmServer } from '../../support/fake-vllm-omni-server.ts';

const speak = (test: TestApp, body: object = SEED_BODY, url = '/tts/voice_clone?model_size=1.7b') =>
  test.app.inject({ method: 'POST', url, payload: body });

describe('vLLM-Omni engine through the HTTP API', () => {
  let fake: FakeVllmServer;
  let test: TestApp;
  before(async () => {
    fake = await startFakeVllmOmni();
    test = await buildTestApp({
      configuredEngine: true,
      environment: { TTS_ENGINE: 'vllm-omni', VLLM_OMNI_URL: fake.url },
    });
  });
  after(async () => {
    await test.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.mode = 'ok';
    fake.speechRequests.length = 0;
  });

  it("serves the seed's request with the real protocol, uploading the voice once", async () => {
    const first = await speak(test, { ...SEED_BODY, seed: 5 });
    assert.equal(first.statusCode, 200, first.statusCode === 200 ? '' : first.body);
    assert.equal(decodeWav(first.rawPayload).sampleRate, 24000);
    const second = await speak(test, { ...SEED_BODY, seed: 5 });
    assert.deepEqual(second.rawPayload, first.rawPayload, 'same seed, same audio');
    assert.equal(fake.uploads.length, 1, 'the voice was uploaded once');
    assert.equal(fake.uploads[0].refText, SEED_BODY.ref_text);
    const request = fake.speechRequests[0];
    assert.equal(request.task_type, 'Base');
    assert.equal(request.voice, fake.uploads[0].name);
    assert.equal(request.language, 'Korean');
    assert.equal(request.response_format, 'pcm');
    assert.equal(request.stream, true);
    assert.equal(request.seed, 5);
    assert.equal(request.max_new_tokens, undefined, 'left to the model default, as the official code does');
    assert.equal(request.model, 'Qwen/Qwen3-TTS-12Hz-1.7B-Base');
    assert.deepEqual(
      fake.speechRequests.map((r) => r.seed).slice(0, 3),
      [5, 6, 7],
      'sentence i uses seed + i',
    );
    await speak(test, { ...SEED_BODY, seed: 5, generation_params: { max_new_tokens: 300 } });
    assert.equal(fake.speechRequests.at(-1)!.max_new_tokens, 300);
  });

  it('relays the PCM stream into SSE audio events as it arrives', async () => {
    const events = parseSse((await speak(test, SEED_BODY, '/tts/voice_clone/sse?model_size=1.7b')).body);
    assert.ok(events.filter((event) => event.event === 'audio').length >= 4);
    assert.equal(events.at(-1)!.event, 'done');
  });

  it('reports the served model, and refuses the other size with a clear 503', async () => {
    const info = (await test.app.inject({ method: 'GET', url: '/info' })).json();
    assert.deepEqual(info.available_models, ['base_1.7b']);
    const response = await speak(test, SEED_BODY, '/tts/voice_clone?model_size=0.6b');
    assert.equal(response.statusCode, 503);
    assert.match(response.json().detail, /serves Qwen\/Qwen3-TTS-12Hz-1\.7B-Base, not base_0\.6b/);
  });

  const failures: { mode: FakeVllmServer['mode']; status: number; detail: RegExp; retryAfter?: string }[] = [
    { mode: 'overloaded', status: 503, detail: /overloaded/, retryAfter: '7' },
    { mode: 'rate-limited', status: 503, detail: /overloaded/, retryAfter: '3' },
    { mode: 'bad-request', status: 422, detail: /Klingon is not supported/ },
    { mode: 'garbage', status: 502, detail: /instead of audio/ },
    { mode: 'die-mid-stream', status: 502, detail: /stopped in the middle|no audio/ },
  ];
  for (const failure of failures) {
    it(`turns "${failure.mode}" into a ${failure.status} and keeps serving`, async () => {
      fake.mode = failure.mode;
      const response = await speak(test, { ...SEED_BODY, split_sentences: false });
      assert.equal(
        response.statusCode,
        failure.status,
        response.statusCode === 200 ? 'got audio' : response.body,
      );
      assert.match(response.json().detail, failure.detail);
      if (failure.retryAfter) assert.equal(response.headers['retry-after'], failure.retryAfter);
      fake.mode = 'ok';
      assert.equal((await speak(test)).statusCode, 200);
    });
  }

  it('sends the reference inline when a restarted server no longer knows the uploaded voice', async () => {
    await speak(test, { ...SEED_BODY, split_sentences: false });
    fake.forgetVoices();
    fake.speechRequests.length = 0;
    const response = await speak(test, { ...SEED_BODY, split_sentences: false });
    assert.equal(response.statusCode, 200, response.statusCode === 200 ? '' : response.body);
    // The fake refuses the unknown voice before recording a request; the one recorded is the inline retry.
    assert.equal(fake.speechRequests.length, 1);
    assert.match(String(fake.speechRequests[0].ref_audio), /^data:audio\//);
    assert.equal(fake.speechRequests[0].voice, undefined);
  });

  it('does not retry an overloaded server', async () => {
    fake.mode = 'overloaded';
    await speak(test, { ...SEED_BODY, split_sentences: false });
    assert.equal(fake.speechRequests.length, 1);
  });

  it('retries a gateway error that came before any audio', async () => {
    fake.failFirst = 1;
    const response = await speak(test, { ...SEED_BODY, split_sentences: false });
    assert.equal(response.statusCode, 200, response.statusCode === 200 ? '' : response.body);
    assert.equal(fake.speechRequests.length, 2);
  });

  it('ends an SSE stream with an error event when the server dies mid-stream', async () => {
    fake.mode = 'die-mid-stream';
    const events = parseSse((await speak(test, SEED_BODY, '/tts/voice_clone/sse?model_size=1.7b')).body);
    assert.equal(events.at(-1)!.event, 'error');
  });

  it('is healthy while the server is', async () => {
    const health = (await test.app.inject({ method: 'GET', url: '/health' })).json();
    assert.equal(health.status, 'ok');
    assert.equal(health.engine.name, 'vllm-omni');
  });
});

describe('vLLM-Omni engine without a voice store', () => {
  it('sends the reference inline as a data URL', async () => {
    const fake = await startFakeVllmOmni();
    fake.mode = 'no-voice-store';
    const test = await buildTestApp({
      configuredEngine: true,
      environment: { TTS_ENGINE: 'vllm-omni', VLLM_OMNI_URL: fake.url },
    });
    try {
      fake.mode = 'ok';
      fake.mode = 'no-voice-store';
      const response = await speak(test, { ...SEED_BODY, split_sentences: false });
      assert.equal(response.statusCode, 200, response.statusCode === 200 ? '' : response.body);
      assert.match(String(fake.speechRequests[0].ref_audio), /^data:audio\/mpeg;base64,/);
      assert.equal(fake.speechRequests[0].ref_text, SEED_BODY.ref_text);
      assert.equal(fake.speechRequests[0].voice, undefined);
    } finally {
      await test.close();
      await fake.close();
    }
  });
});

describe('vLLM-Omni engine that is down', () => {
  it('starts anyway, reports it in /health, and answers 503 with Retry-After', async () => {
    const test = await buildTestApp({
      configuredEngine: true,
      environment: { TTS_ENGINE: 'vllm-omni', VLLM_OMNI_URL: 'http://127.0.0.1:9' },
    });
    try {
      const health = (await test.app.inject({ method: 'GET', url: '/health' })).json();
      assert.equal(health.status, 'degraded');
      assert.match(health.engine.message, /not reachable/);
      const response = await speak(test);
      assert.equal(response.statusCode, 503, String(response.statusCode));
      assert.match(response.json().detail, /vLLM-Omni at http:\/\/127\.0\.0\.1:9 is not reachable/);
      assert.ok(response.headers['retry-after']);
    } finally {
      await test.close();
    }
  });
});

describe('vLLM-Omni engine, directly', () => {
  it('fails a stream that goes quiet for longer than the idle timeout', async () => {
    const fake = await startFakeVllmOmni();
    fake.mode = 'slow';
    const config = loadConfig({ TTS_ENGINE: 'vllm-omni', VLLM_OMNI_URL: fake.url });
    const engine = await VllmOmniEngine.connect(config, {
      idleTimeoutMs: 100,
      logger: pino({ level: 'silent' }),
    });
    try {
      const stream = engine.generate(
        {
          model: 'base_1.7b',
          text: '안녕하세요',
          language: 'Korean',
          voice: {
            id: 'v',
            model: 'base_1.7b',
            xVectorOnly: true,
            data: { referenceDataUrl: 'data:audio/wav;base64,AAAA', referenceText: '' },
          },
          sampling: {
            seed: 1,
            temperature: 0.9,
            topK: 50,
            topP: 1,
            repetitionPenalty: 1.05,
            doSample: true,
            maxNewTokens: 100,
          },
          streaming: true,
        },
        AbortSignal.timeout(5000),
      );
      await assert.rejects(
        (async () => {
          for await (const _part of stream) void _part;
        })(),
        (error: unknown) =>
          error instanceof EngineFailedError && /sent no audio for 100 ms/.test(error.message),
      );
    } finally {
      await fake.close();
    }
  });

  const models: [string, string | undefined][] = [
    ['Qwen/Qwen3-TTS-12Hz-1.7B-Base', 'base_1.7b'],
    ['Qwen/Qwen3-TTS-12Hz-0.6B-Base', 'base_0.6b'],
    ['Qwen/Qwen3-TTS-12Hz-1.7B-CustomVoice', undefined],
  ];
  for (const [id, key] of models)
    it(`maps ${id} to ${key}`, () => assert.equal(modelKeyOfServedModel(id), key));

  it('decodes PCM split in the middle of a sample', () => {
    const decoder = new Pcm16Decoder();
    const bytes = Buffer.alloc(6);
    bytes.writeInt16LE(16384, 0);
    bytes.writeInt16LE(-16384, 2);
    bytes.writeInt16LE(8192, 4);
    const first = decoder.push(bytes.subarray(0, 3));
    const second = decoder.push(bytes.subarray(3));
    assert.deepEqual([...first, ...second], [0.5, -0.5, 0.25]);
    assert.equal(decoder.hasRemainder, false);
  });
});
