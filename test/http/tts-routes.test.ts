import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { decodeWav, encodeWav } from '../../src/audio/wav.ts';
import { buildTestApp, eventually, parseSse, SEED_BODY, type TestApp } from '../helper.ts';
import { FakeTtsEngine } from '../support/fake-tts-engine.ts';

const post = (test: TestApp, body: unknown, url = '/tts/voice_clone?model_size=0.6b', headers = {}) =>
  test.app.inject({ method: 'POST', url, payload: body as object, headers });

describe('POST /tts/voice_clone', () => {
  let test: TestApp;
  let engine: FakeTtsEngine;
  before(async () => {
    engine = new FakeTtsEngine();
    test = await buildTestApp({ engine });
  });
  after(async () => test.close());

  it("answers the seed guide's curl example with a WAV and the seed's headers", async () => {
    const response = await post(test, SEED_BODY, undefined, { origin: 'http://client.test' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['content-type'], 'audio/wav');
    assert.equal(response.headers['content-disposition'], 'attachment; filename=output.wav');
    assert.match(String(response.headers['x-generation-time']), /^\d+\.\d{3}$/);
    assert.match(String(response.headers['access-control-expose-headers']), /X-Generation-Time/);
    // How it waited for the engine: a free slot, so no place in line and the next turn.
    assert.equal(response.headers['x-queue-position'], '0');
    assert.match(String(response.headers['x-queue-wait']), /^0\.000$/);
    assert.match(String(response.headers['x-queue-turns']), /^(\d+)-(\d+)$/);
    assert.match(String(response.headers['access-control-expose-headers']), /X-Queue-Turns/);
    const wav = decodeWav(response.rawPayload);
    assert.equal(wav.sampleRate, 24000);
    assert.ok(wav.samples.length > 24000 * 0.5);
  });

  it('computes the voice prompt once per request and seeds sentence i with seed + i', async () => {
    engine.requests.length = 0;
    engine.voiceRequests.length = 0;
    const response = await post(test, { ...SEED_BODY, seed: 1000 });
    assert.equal(response.statusCode, 200);
    assert.equal(engine.voiceRequests.length, 1);
    assert.ok(engine.requests.length >= 2, 'the three sentences are generated separately');
    assert.deepEqual(
      engine.requests.map((request) => request.sampling.seed),
      engine.requests.map((_request, index) => 1000 + index),
    );
    assert.equal(new Set(engine.requests.map((request) => request.voice.id)).size, 1);
    assert.equal(response.headers['x-seed'], '1000');
  });

  it('gives identical audio for the same seed and different audio for another', async () => {
    const first = await post(test, { ...SEED_BODY, seed: 7 });
    const second = await post(test, { ...SEED_BODY, seed: 7 });
    const third = await post(test, { ...SEED_BODY, seed: 8 });
    assert.deepEqual(first.rawPayload, second.rawPayload);
    assert.notDeepEqual(first.rawPayload, third.rawPayload);
  });

  it('joins sentences with the configured pause', async () => {
    engine.requests.length = 0;
    const split = decodeWav((await post(test, { ...SEED_BODY, split_sentences: true })).rawPayload);
    const sentences = engine.requests.length;
    engine.requests.length = 0;
    const whole = decodeWav((await post(test, { ...SEED_BODY, split_sentences: false })).rawPayload);
    assert.equal(engine.requests.length, 1, 'split_sentences=false keeps one piece');
    const pause = Math.round((test.config.SENTENCE_PAUSE_MS / 1000) * 24000);
    assert.equal(split.samples.length, whole.samples.length * sentences + pause * (sentences - 1));
  });

  it('answers a list of texts with the JSON batch response', async () => {
    const response = await post(test, { ...SEED_BODY, text: ['첫 번째 문장입니다.', '두 번째 문장입니다.'] });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.success, true);
    assert.equal(body.message, 'Generated 2 audio(s)');
    assert.equal(body.sample_rate, 24000);
    assert.equal(body.audio_count, 2);
    assert.equal(body.audio_data.length, 2);
    assert.equal(decodeWav(Buffer.from(body.audio_data[1], 'base64')).sampleRate, 24000);
    assert.equal(typeof body.generation_time, 'number');
  });

  it('normalizes Korean numbers before synthesis and applies per-request pronunciations', async () => {
    engine.requests.length = 0;
    const response = await post(test, {
      ...SEED_BODY,
      text: 'Qwen 면접은 2025년 3월 1일입니다.',
      pronunciations: { Qwen: '큐웬' },
    });
    assert.equal(response.statusCode, 200, response.body);
    const spoken = engine.requests.map((request) => request.text).join(' ');
    assert.match(spoken, /큐웬/);
    assert.match(spoken, /이천이십오/);
    assert.doesNotMatch(spoken, /\d/);
  });

  it('passes digits through unchanged with normalize=false', async () => {
    engine.requests.length = 0;
    await post(test, { ...SEED_BODY, text: '2025년입니다.', normalize: false });
    assert.match(engine.requests[0].text, /2025/);
  });

  const invalid: { name: string; body: unknown; url?: string; status: number; expect: RegExp }[] = [
    {
      name: 'text missing',
      body: { ...SEED_BODY, text: undefined },
      status: 422,
      expect: /"loc":\["body","text"\]/,
    },
    {
      name: 'text that is neither a string nor a list of strings',
      body: { ...SEED_BODY, text: ['안녕하세요.', 3] },
      status: 422,
      // pydantic's answer for Union[str, List[str]]: each member's failure under its label.
      expect: /"type":"string_type","loc":\["body","text","list\[str\]",1\]/,
    },
    {
      name: 'ref_audio missing',
      body: { ...SEED_BODY, ref_audio: undefined },
      status: 422,
      expect: /ref_audio/,
    },
    {
      name: 'ref_text missing',
      body: { ...SEED_BODY, ref_text: undefined },
      status: 422,
      expect: /ref_text is required/,
    },
    {
      name: 'an unknown model_size',
      body: SEED_BODY,
      url: '/tts/voice_clone?model_size=2b',
      status: 422,
      expect: /model_size must be 0\.6b or 1\.7b/,
    },
    {
      name: 'an unknown language',
      body: { ...SEED_BODY, language: 'Klingon' },
      status: 422,
      expect: /language must be one of/,
    },
    {
      name: 'temperature out of range',
      body: { ...SEED_BODY, generation_params: { temperature: 5 } },
      status: 422,
      expect: /temperature/,
    },
    {
      name: 'max_new_tokens over TTS_MAX_NEW_TOKENS',
      body: { ...SEED_BODY, generation_params: { max_new_tokens: 5000 } },
      status: 422,
      expect: /TTS_MAX_NEW_TOKENS/,
    },
    {
      name: 'a sub-talker top_p over 1',
      body: { ...SEED_BODY, generation_params: { subtalker_top_p: 1.5 } },
      status: 422,
      expect: /"type":"less_than_equal","loc":\["body","generation_params","subtalker_top_p"\]/,
    },
    { name: 'empty text', body: { ...SEED_BODY, text: '   ' }, status: 422, expect: /text is empty/ },
    {
      name: 'text that is only symbols',
      body: { ...SEED_BODY, text: '!!! ...' },
      status: 422,
      expect: /nothing that can be spoken/,
    },
    {
      name: 'text over MAX_TEXT_LENGTH',
      body: { ...SEED_BODY, text: '가'.repeat(5001) },
      status: 413,
      expect: /MAX_TEXT_LENGTH/,
    },
    {
      name: 'ref_text over MAX_REF_TEXT_LENGTH',
      body: { ...SEED_BODY, ref_text: '가'.repeat(1001) },
      status: 413,
      expect: /ref_text is 1001 characters long.*MAX_REF_TEXT_LENGTH/,
    },
    {
      name: 'mismatched list lengths',
      body: { ...SEED_BODY, text: ['하나.', '둘.'], ref_audio: ['a.wav', 'b.wav', 'c.wav'] },
      status: 422,
      expect: /ref_audio has 3 items but text has 2/,
    },
    {
      name: 'a path outside REF_AUDIO_DIR',
      body: { ...SEED_BODY, ref_audio: '../../etc/passwd' },
      status: 400,
      expect: /REF_AUDIO_DIR/,
    },
    {
      name: 'a file that does not exist',
      body: { ...SEED_BODY, ref_audio: 'missing.wav' },
      status: 404,
      expect: /missing\.wav/,
    },
    {
      name: 'base64 that is not audio',
      body: {
        ...SEED_BODY,
        ref_audio: Buffer.from('not audio at all, just text. '.repeat(20)).toString('base64'),
      },
      status: 422,
      expect: /audio/,
    },
  ];
  for (const testCase of invalid) {
    it(`rejects ${testCase.name} with a ${testCase.status} that names the problem`, async () => {
      const response = await post(test, testCase.body, testCase.url);
      assert.equal(response.statusCode, testCase.status, response.body);
      assert.match(response.body, testCase.expect);
      assert.ok(response.json().detail, 'FastAPI-style detail');
    });
  }

  it("passes only the settings the client gave, the sub-talker's under their official names", async () => {
    await post(test, { ...SEED_BODY, split_sentences: false, seed: 3 });
    assert.deepEqual(engine.requests.at(-1)!.sampling, { seed: 3 }, 'everything else is the model default');
    await post(test, {
      ...SEED_BODY,
      split_sentences: false,
      seed: 3,
      generation_params: { temperature: 0.7, subtalker_dosample: false, subtalker_top_k: 10 },
    });
    assert.deepEqual(engine.requests.at(-1)!.sampling, {
      seed: 3,
      temperature: 0.7,
      subtalker: { doSample: false, topK: 10 },
    });
    assert.equal(engine.requests.at(-1)!.streaming, false, 'a WAV answer is decoded as a whole');
  });

  it('rejects malformed JSON with a 422 in FastAPI shape', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/tts/voice_clone',
      payload: '{"text": ',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(response.statusCode, 422);
    assert.equal(response.json().detail[0].type, 'json_invalid');
  });

  it('answers a body that is not JSON by its Content-Type with a 415 that says what to send', async () => {
    for (const type of ['text/plain', 'application/xml']) {
      const response = await post(test, JSON.stringify(SEED_BODY), undefined, { 'content-type': type });
      assert.equal(response.statusCode, 415, response.body);
      assert.match(response.json().detail, /application\/json/);
    }
  });

  it('keeps serving after bad input', async () => {
    const response = await post(test, SEED_BODY);
    assert.equal(response.statusCode, 200);
  });
});

describe('POST /tts/voice_clone without an installed model', () => {
  it('answers 503 with how to install one', async () => {
    const test = await buildTestApp({ engine: new FakeTtsEngine({ installed: [] }) });
    try {
      const response = await post(test, SEED_BODY);
      assert.equal(response.statusCode, 503);
      assert.match(response.json().detail, /npm run cli -- models pull base_0\.6b/);
    } finally {
      await test.close();
    }
  });
});

describe('admission queue over HTTP', () => {
  it('answers 503 with Retry-After when the queue is full, and keeps serving', async () => {
    const test = await buildTestApp({
      engineOptions: { partDelayMs: 150 },
      environment: { QUEUE_CONCURRENCY: '1', QUEUE_MAX_PENDING: '0' },
    });
    try {
      const first = post(test, SEED_BODY);
      await eventually(
        () => test.app.inject({ url: '/health' }).then((response) => response.json().queue.active),
        (active) => active === 1,
      );
      const second = await post(test, SEED_BODY);
      assert.equal(second.statusCode, 503, second.body);
      assert.ok(Number(second.headers['retry-after']) >= 1);
      assert.match(second.json().detail, /busy/);
      assert.equal((await first).statusCode, 200);
      assert.equal((await post(test, SEED_BODY)).statusCode, 200);
    } finally {
      await test.close();
    }
  });

  const clientsBy = {
    'their addresses': { TRUST_PROXY: '', address: (client: string) => ({ remoteAddress: client }) },
    'X-Forwarded-For behind a trusted proxy': {
      TRUST_PROXY: '127.0.0.1',
      address: (client: string) => ({ headers: { 'x-forwarded-for': client } }),
    },
  };
  for (const [how, { TRUST_PROXY, address }] of Object.entries(clientsBy))
    it(`shares the queue fairly between clients named by ${how}`, async () => {
      const test = await buildTestApp({
        engineOptions: { partDelayMs: 150 },
        environment: { QUEUE_CONCURRENCY: '1', QUEUE_MAX_PENDING: '2', TRUST_PROXY },
      });
      const from = (client: string) =>
        test.app
          .inject({ method: 'POST', url: '/tts/voice_clone', payload: SEED_BODY, ...address(client) })
          .then((response) => ({ response, at: performance.now() }));
      try {
        const queue = (active: number, pending: number) =>
          eventually(
            () => test.app.inject({ url: '/health' }).then((response) => response.json().queue),
            (snapshot: { active: number; pending: number }) =>
              snapshot.active === active && snapshot.pending === pending,
          );
        const burst = [from('10.0.0.1')];
        await queue(1, 0);
        burst.push(from('10.0.0.1'));
        await queue(1, 1);
        burst.push(from('10.0.0.1'));
        await queue(1, 2);
        const other = await from('10.0.0.2');
        const [first, second, third] = await Promise.all(burst);
        assert.equal(other.response.statusCode, 200, other.response.body);
        assert.equal(third.response.statusCode, 503, 'the burst’s newest place went to the other client');
        assert.match(third.response.json().detail, /fewer requests waiting/);
        assert.equal(first.response.statusCode, 200);
        assert.equal(second.response.statusCode, 200);
        assert.ok(other.at < second.at, 'the other client is served before the burst’s second request');
        // Each was told so: both were first in line on arrival; the other client arrived later but
        // had never had a turn, so its turn came first.
        const turns = (response: typeof other.response) =>
          String(response.headers['x-queue-turns']).split('-').map(Number);
        assert.equal(second.response.headers['x-queue-position'], '1');
        assert.equal(other.response.headers['x-queue-position'], '1');
        assert.deepEqual(
          [turns(first.response)[1], turns(other.response)[1], turns(second.response)[1]],
          [1, 2, 3],
        );
      } finally {
        await test.close();
      }
    });
});

describe('reference downloads and the engine slot', () => {
  it('downloads a slow ref_audio URL before taking the slot, so other requests go first', async () => {
    const test = await buildTestApp({
      environment: { QUEUE_CONCURRENCY: '1', REF_AUDIO_ALLOW_PRIVATE_URLS: 'true' },
    });
    const bytes = readFileSync(path.join(test.referenceDirectory, SEED_BODY.ref_audio));
    // Sends half the file, then the rest a second later.
    const slow = http.createServer((_request, response) => {
      response.write(bytes.subarray(0, bytes.length >> 1));
      setTimeout(() => response.end(bytes.subarray(bytes.length >> 1)), 1000);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/voice.mp3`;
      let slowDone = 0;
      const slowRequest = post(test, { ...SEED_BODY, ref_audio: url }).then((response) => {
        slowDone = performance.now();
        return response;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const fast = await post(test, SEED_BODY);
      const fastDone = performance.now();
      assert.equal(fast.statusCode, 200, fast.body);
      assert.equal((await slowRequest).statusCode, 200);
      assert.ok(fastDone < slowDone, 'the local reference was answered while the URL was downloading');
    } finally {
      slow.close();
      await test.close();
    }
  });
});

describe('POST /tts/voice_clone/sse (inject)', () => {
  let test: TestApp;
  before(async () => {
    test = await buildTestApp();
  });
  after(async () => test.close());

  it('sends meta, audio events and done', async () => {
    const response = await post(test, SEED_BODY, '/tts/voice_clone/sse?model_size=0.6b&streaming=true');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /text\/event-stream/);
    const events = parseSse(response.body);
    assert.equal(events[0].event, 'meta');
    assert.equal((events[0].data as { status: string }).status, 'generating');
    const audio = events.filter((event) => event.event === 'audio');
    assert.ok(audio.length > 1);
    audio.forEach((event, index) => {
      const data = event.data as {
        chunk_index: number;
        audio: string;
        sample_rate: number;
        generation_time: number;
      };
      assert.equal(data.chunk_index, index);
      assert.equal(data.sample_rate, 24000);
      assert.equal(decodeWav(Buffer.from(data.audio, 'base64')).sampleRate, 24000);
    });
    const done = events.at(-1)!;
    assert.equal(done.event, 'done');
    assert.equal((done.data as { total_chunks: number }).total_chunks, audio.length);
  });

  it('with streaming=false sends one audio event with everything', async () => {
    const events = parseSse((await post(test, SEED_BODY, '/tts/voice_clone/sse?streaming=false')).body);
    assert.equal(events.filter((event) => event.event === 'audio').length, 1);
  });

  it('answers bad input with a plain 4xx before the stream starts', async () => {
    const response = await post(test, { ...SEED_BODY, ref_audio: '../secret.wav' }, '/tts/voice_clone/sse');
    assert.equal(response.statusCode, 400);
  });

  it('ends with an error event when generation fails', async () => {
    const failing = await buildTestApp({ engineOptions: { failAfterParts: 2 } });
    try {
      const events = parseSse((await post(failing, SEED_BODY, '/tts/voice_clone/sse')).body);
      assert.equal(events.filter((event) => event.event === 'audio').length, 2);
      assert.equal(events.at(-1)!.event, 'error');
      assert.match((events.at(-1)!.data as { detail: string }).detail, /failed on purpose/);
    } finally {
      await failing.close();
    }
  });
});

describe('advice about the reference recording', () => {
  it('says in a header and in the SSE meta event when the reference clips, and nothing for a clean one', async () => {
    const test = await buildTestApp();
    try {
      const voice = (gain: number) =>
        Float32Array.from({ length: 24000 * 5 }, (_value, index) =>
          Math.max(-1, Math.min(1, gain * Math.sin(index / 21) * Math.max(0, Math.sin(index / 4000)))),
        );
      writeFileSync(path.join(test.referenceDirectory, 'clipped.wav'), encodeWav(voice(3), 24000));
      writeFileSync(path.join(test.referenceDirectory, 'clean.wav'), encodeWav(voice(0.3), 24000));

      const clipped = await post(test, { ...SEED_BODY, ref_audio: 'clipped.wav' });
      assert.equal(clipped.statusCode, 200, 'advice, not an error');
      assert.match(
        decodeURIComponent(String(clipped.headers['x-reference-warnings'])),
        /the reference clips/,
      );
      const stream = await post(test, { ...SEED_BODY, ref_audio: 'clipped.wav' }, '/tts/voice_clone/sse');
      const meta = parseSse(stream.body)[0].data as { reference_warnings: string[] };
      assert.match(meta.reference_warnings.join(), /the reference clips/);

      const clean = await post(test, { ...SEED_BODY, ref_audio: 'clean.wav' });
      assert.equal(clean.headers['x-reference-warnings'], undefined);
    } finally {
      await test.close();
    }
  });
});

describe('finished speech replayed for a repeated seed', () => {
  it('answers an identical request from memory, and generates anything that differs', async () => {
    const engine = new FakeTtsEngine();
    const test = await buildTestApp({ engine });
    try {
      const first = await post(test, { ...SEED_BODY, seed: 21 });
      const generated = engine.requests.length;
      const again = await post(test, { ...SEED_BODY, seed: 21 });
      assert.equal(again.headers['x-cache'], 'hit');
      assert.equal(first.headers['x-cache'], undefined);
      assert.deepEqual(again.rawPayload, first.rawPayload);
      assert.equal(engine.requests.length, generated, 'the engine did no work');

      // The same audio as SSE events (not streamed while generated: decoded as a whole, like the WAV).
      const replayed = await post(test, { ...SEED_BODY, seed: 21 }, '/tts/voice_clone/sse?streaming=false');
      assert.ok(parseSse(replayed.body).some(({ event }) => event === 'audio'));
      assert.equal(engine.requests.length, generated);
      // Streamed audio is decoded piece by piece, so it is not the same audio: it is generated.
      await post(test, { ...SEED_BODY, seed: 21 }, '/tts/voice_clone/sse');
      assert.ok(engine.requests.length > generated);

      for (const different of [
        { ...SEED_BODY, seed: 22 },
        { ...SEED_BODY, seed: 21, generation_params: { temperature: 0.5 } },
        { ...SEED_BODY, seed: 21, text: '다른 질문입니다.' },
        { ...SEED_BODY },
      ]) {
        const before = engine.requests.length;
        const response = await post(test, different);
        assert.equal(response.headers['x-cache'], undefined);
        assert.ok(engine.requests.length > before, JSON.stringify(different));
      }
      const metrics = (await test.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /tts_requests_total\{model="base_0\.6b",outcome="cached"\} 2/);
    } finally {
      await test.close();
    }
  });

  it('keeps nothing with SPEECH_CACHE_MB=0', async () => {
    const engine = new FakeTtsEngine();
    const test = await buildTestApp({ engine, environment: { SPEECH_CACHE_MB: '0' } });
    try {
      await post(test, { ...SEED_BODY, seed: 21 });
      const before = engine.requests.length;
      const again = await post(test, { ...SEED_BODY, seed: 21 });
      assert.equal(again.headers['x-cache'], undefined);
      assert.ok(engine.requests.length > before);
    } finally {
      await test.close();
    }
  });
});
