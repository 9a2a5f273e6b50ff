import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket as WebSocketClient } from 'ws';
import { buildTestApp, eventually, SEED_BODY, type TestApp } from '../helper.ts';
import { FakeTtsEngine } from '../support/fake-tts-engine.ts';
import { record } from './speech-stream-recorder.ts';

describe('WS /v1/audio/speech/stream', () => {
  let test: TestApp;
  let engine: FakeTtsEngine;
  before(async () => {
    engine = new FakeTtsEngine({ partDelayMs: 30 });
    test = await buildTestApp({ engine });
  });
  after(async () => test.close());

  it('speaks each sentence as soon as it is complete, while the text is still arriving', async () => {
    const socket = await test.app.injectWS('/v1/audio/speech/stream');
    const session = record(socket);
    socket.send(
      JSON.stringify({
        type: 'session.config',
        voice: 'sample(1)',
        response_format: 'pcm',
        stream_audio: true,
        seed: 4,
      }),
    );
    for (const piece of ['안녕하', '세요. 면접을', ' 시작하겠습니다. 첫 ', '질문입니다'])
      socket.send(JSON.stringify({ type: 'input.text', text: piece }));
    // The first two sentences are complete: their audio comes before the input is.
    await session.until(
      () => session.messages.some((m) => m.type === 'audio.done' && m.sentence_index === 1),
      'two sentences',
    );
    assert.ok(!session.messages.some((m) => m.type === 'session.done'));
    socket.send(JSON.stringify({ type: 'input.done' }));
    await session.until(() => session.count('session.done') === 1, 'the end of the utterance');
    socket.send(JSON.stringify({ type: 'session.close' }));
    await session.until(() => session.closeCode() !== undefined, 'the end of the session');

    assert.equal(session.closeCode(), 1000);
    const starts = session.messages.filter((m) => m.type === 'audio.start') as unknown as {
      sentence_text: string;
      sample_rate: number;
    }[];
    assert.deepEqual(
      starts.map((m) => m.sentence_text),
      ['안녕하세요.', '면접을 시작하겠습니다.', '첫 질문입니다'],
    );
    assert.equal(starts[0].sample_rate, 24000);
    assert.deepEqual(session.messages.at(-1), {
      type: 'session.done',
      utterance_index: 0,
      total_sentences: 3,
    });
    // Between each start and done: binary audio frames of 16-bit samples.
    let inSentence = false;
    let frames = 0;
    for (const message of session.messages) {
      if (message.type === 'audio.start') inSentence = true;
      if (message.type === 'audio.done') inSentence = false;
      if (message.type === 'binary') {
        assert.ok(inSentence, 'audio only inside a sentence');
        assert.equal((message as { bytes: number }).bytes % 2, 0);
        frames += 1;
      }
    }
    assert.ok(frames > 3, 'stream_audio: each sentence in several frames');
    // Sentence i is seeded with seed + i, as in one request.
    assert.deepEqual(
      engine.requests.slice(-3).map((r) => r.sampling.seed),
      [4, 5, 6],
    );
  });

  const refused: [string, (object | string)[], RegExp][] = [
    [
      'text before session.config',
      [{ type: 'input.text', text: '안녕하세요.' }],
      /send session\.config before any text/,
    ],
    ['a message that is not JSON', ['hello'], /not JSON/],
    ['an unknown message type', [{ type: 'input.audio' }], /each message is/],
    ['an unknown voice', [{ type: 'session.config', voice: 'nobody' }], /no voice named "nobody"/],
    [
      'a bad response_format',
      [{ type: 'session.config', voice: 'sample(1)', response_format: 'ogg' }],
      /response_format/,
    ],
  ];
  for (const [name, sent, message] of refused) {
    it(`answers ${name} with an error event and closes`, async () => {
      const socket = await test.app.injectWS('/v1/audio/speech/stream');
      const session = record(socket);
      for (const item of sent) socket.send(typeof item === 'string' ? item : JSON.stringify(item));
      await session.until(() => session.closeCode() !== undefined, 'the socket to close');
      const error = session.messages.find((m) => m.type === 'error') as { detail: string } | undefined;
      assert.ok(error, 'an error message');
      assert.match(error.detail, message);
      assert.equal(session.closeCode(), 1008);
    });
  }

  it('stops the current turn on input.cancel and goes on with the next', async () => {
    const slow = new FakeTtsEngine({ partDelayMs: 60, partsPerSentence: 10 });
    const slowTest = await buildTestApp({ engine: slow });
    try {
      const socket = await slowTest.app.injectWS('/v1/audio/speech/stream');
      const session = record(socket);
      socket.send(
        JSON.stringify({
          type: 'session.config',
          voice: 'sample(1)',
          response_format: 'pcm',
          stream_audio: true,
        }),
      );
      socket.send(
        JSON.stringify({ type: 'input.text', text: '첫 번째 질문입니다. 두 번째 질문입니다. 세 번째 ' }),
      );
      await session.until(() => session.messages.some((m) => m.type === 'binary'), 'the first audio');
      socket.send(JSON.stringify({ type: 'input.cancel' }));
      await session.until(
        () => session.messages.some((m) => m.type === 'input.cancelled'),
        'input.cancelled',
      );
      assert.equal(slow.cancelledRequests, 1, 'the sentence being spoken was stopped');
      assert.equal(slow.requests.length, 1, 'the queued sentence was dropped');
      assert.ok(
        !session.messages.some((m) => m.type === 'audio.done'),
        'the stopped sentence did not finish',
      );

      socket.send(JSON.stringify({ type: 'input.text', text: '다시 묻겠습니다.' }));
      socket.send(JSON.stringify({ type: 'input.done' }));
      socket.send(JSON.stringify({ type: 'session.close' }));
      await session.until(() => session.closeCode() !== undefined, 'the end of the session');
      const spoken = session.messages
        .filter((m) => m.type === 'audio.start')
        .map((m) => (m as { sentence_text?: unknown }).sentence_text);
      assert.deepEqual(
        spoken,
        ['첫 번째 질문입니다.', '다시 묻겠습니다.'],
        'the buffered “세 번째” was dropped too',
      );
      assert.equal(session.closeCode(), 1000);
    } finally {
      await slowTest.close();
    }
  });

  it('sends the audio asked for before a session.config that names no voice here, then closes 1008', async () => {
    const socket = await test.app.injectWS('/v1/audio/speech/stream');
    const session = record(socket);
    for (const message of [
      { type: 'session.config', voice: 'sample(1)', response_format: 'pcm' },
      { type: 'input.text', text: '안녕하세요. 반갑습니다.' },
      { type: 'input.done' },
      { type: 'session.config', voice: 'nobody' },
    ])
      socket.send(JSON.stringify(message));
    await session.until(() => session.closeCode() !== undefined, 'the socket to close');
    assert.equal(session.closeCode(), 1008);
    assert.deepEqual(
      session.messages.filter((m) => m.type !== 'binary').map((m) => m.type),
      ['audio.start', 'audio.done', 'audio.start', 'audio.done', 'session.done', 'error'],
    );
  });

  it('stops generating when the client closes mid-sentence', async () => {
    const slow = new FakeTtsEngine({ partDelayMs: 100, partsPerSentence: 10 });
    const slowTest = await buildTestApp({ engine: slow });
    try {
      const socket = await slowTest.app.injectWS('/v1/audio/speech/stream');
      const session = record(socket);
      socket.send(JSON.stringify({ type: 'session.config', voice: 'sample(1)', stream_audio: true }));
      socket.send(JSON.stringify({ type: 'input.text', text: '안녕하세요. 면접을 시작하겠습니다.' }));
      socket.send(JSON.stringify({ type: 'input.done' }));
      await session.until(() => session.messages.some((m) => m.type === 'binary'), 'the first audio');
      socket.terminate();
      await eventually(
        () => slow.cancelledRequests,
        (count) => count > 0,
        3000,
      );
      assert.equal(slow.cancelledRequests, 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(slow.requests.length, 1, 'the second sentence was never started');
    } finally {
      await slowTest.close();
    }
  });
});

describe('WS /v1/audio/speech/stream limits', () => {
  let test: TestApp;
  let url: string;
  before(async () => {
    test = await buildTestApp({
      environment: { STREAM_SESSION_MAX_TEXT: '40', STREAM_MAX_SESSIONS: '2', STREAM_IDLE_TIMEOUT_S: '1' },
    });
    url = `${(await test.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws')}/v1/audio/speech/stream`;
  });
  after(async () => test.close());

  // A real connection: what the server says the moment it accepts a session must reach the client.
  const open = async () => {
    const socket = new WebSocketClient(url);
    const session = record(socket);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return { socket, session };
  };
  const errorOf = (session: ReturnType<typeof record>) =>
    session.messages.find((m) => m.type === 'error') as unknown as {
      detail: string;
      message: string;
      code: string;
    };

  it('refuses a message over 1 MB with an error that says so (1009), not a bare cut', async () => {
    const { socket, session } = await open();
    socket.send(JSON.stringify({ type: 'input.text', text: 'a'.repeat(1100000) }));
    await session.until(() => session.closeCode() !== undefined, 'the socket to close');
    assert.equal(session.closeCode(), 1009);
    assert.match(errorOf(session).detail, /over the 1048576-byte limit/);
  });

  it('ends a session that sends more text than STREAM_SESSION_MAX_TEXT', async () => {
    const { socket, session } = await open();
    socket.send(JSON.stringify({ type: 'session.config', voice: 'sample(1)', response_format: 'pcm' }));
    for (let i = 0; i < 3; i += 1)
      socket.send(JSON.stringify({ type: 'input.text', text: '가나다라마바사아자차카 ' }));
    socket.send(JSON.stringify({ type: 'input.text', text: '타파하'.repeat(5) }));
    await session.until(() => session.closeCode() !== undefined, 'the socket to close');
    assert.equal(session.closeCode(), 1008);
    assert.equal(errorOf(session).code, 'session_text_too_long');
    assert.match(errorOf(session).message, /STREAM_SESSION_MAX_TEXT/, 'vLLM-Omni clients read `message`');
  });

  it('closes a session that sends nothing for STREAM_IDLE_TIMEOUT_S', async () => {
    const { session } = await open();
    await session.until(() => session.closeCode() !== undefined, 'the idle session to close', 5000);
    assert.equal(errorOf(session).code, 'idle');
  });

  it('closes a session that stays open doing nothing after its utterance', async () => {
    const { socket, session } = await open();
    socket.send(JSON.stringify({ type: 'session.config', voice: 'sample(1)', response_format: 'pcm' }));
    socket.send(JSON.stringify({ type: 'input.text', text: '안녕하세요.' }));
    socket.send(JSON.stringify({ type: 'input.done' }));
    await session.until(() => session.count('session.done') === 1, 'the utterance');
    await session.until(() => session.closeCode() !== undefined, 'the idle session to close', 5000);
    assert.equal(session.closeCode(), 1008);
    assert.equal(errorOf(session).code, 'idle');
  });

  it('refuses sessions over STREAM_MAX_SESSIONS with 1013, and takes new ones once they close', async () => {
    const first = await open();
    const second = await open();
    const third = await open();
    await third.session.until(() => third.session.closeCode() !== undefined, 'the third to be refused');
    assert.equal(third.session.closeCode(), 1013);
    assert.match(errorOf(third.session).detail, /STREAM_MAX_SESSIONS/);
    first.socket.close();
    await first.session.until(() => first.session.closeCode() !== undefined, 'the first to close');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fourth = await open();
    fourth.socket.send(JSON.stringify({ type: 'session.config', voice: 'sample(1)' }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(fourth.session.closeCode(), undefined, 'a free place was taken');
    second.socket.close();
    fourth.socket.close();
  });
});

describe('WS /v1/audio/speech/stream to a client that does not read', () => {
  it('pauses generation while the client is behind, and disconnects it after STREAM_STALL_TIMEOUT_S', async () => {
    const engine = new FakeTtsEngine({ partsPerSentence: 20 });
    const test = await buildTestApp({ engine, environment: { STREAM_STALL_TIMEOUT_S: '2' } });
    try {
      const base = await test.app.listen({ host: '127.0.0.1', port: 0 });
      const client = new WebSocketClient(`${base.replace('http', 'ws')}/v1/audio/speech/stream`);
      let transport: Socket | undefined;
      client.on('upgrade', (response) => (transport = response.socket));
      client.on('error', () => {});
      await new Promise((resolve, reject) => {
        client.once('open', resolve);
        client.once('error', reject);
      });
      const text = Array.from({ length: 300 }, (_, i) => `${i + 1}번째 문장.`).join(' ');
      client.send(
        JSON.stringify({
          type: 'session.config',
          voice: 'sample(1)',
          response_format: 'pcm',
          stream_audio: true,
        }),
      );
      client.send(JSON.stringify({ type: 'input.text', text }));
      client.send(JSON.stringify({ type: 'input.done' }));
      // From here on it reads nothing, like a client on a dead network.
      transport!.pause();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const started = engine.requests.length;
      assert.ok(started > 0 && started < 300, `generation paused (${started} of 300 sentences started)`);
      // Disconnected after 2 s, which frees the only engine slot for the request behind it.
      const next = await Promise.race([
        test.app.inject({ method: 'POST', url: '/tts/voice_clone', payload: SEED_BODY }),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the stalled session still holds the engine')), 8000),
        ),
      ]);
      assert.equal(next.statusCode, 200);
      assert.ok(engine.requests.length < 300, 'the rest was never generated');
      client.terminate();
    } finally {
      await test.close();
    }
  });
});
