import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  buildTestApp,
  eventually,
  parseSse,
  SEED_BODY,
  writeReferenceAudio,
  type TestApp,
} from '../helper.ts';
import { FakeTtsEngine, requestGate } from '../support/fake-tts-engine.ts';

/** Reads SSE events from a live response as they arrive. */
async function* readEvents(response: Response): AsyncGenerator<{ event: string; at: number }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = block.split('\n').find((line) => line.startsWith('event: '));
      if (name) yield { event: name.slice(7), at: performance.now() };
    }
  }
}

describe('SSE over a real connection', () => {
  let test: TestApp;
  let engine: FakeTtsEngine;
  let baseUrl: string;
  before(async () => {
    engine = new FakeTtsEngine({ partDelayMs: 80 });
    test = await buildTestApp({ engine });
    baseUrl = await test.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => test.close());

  it('sends the first audio event while later sentences are still being generated', async () => {
    // Later sentences wait until the client has the first audio event (or 10 s): a server that held
    // the events back would only send it after that wait, with every sentence generated.
    const laterSentences = requestGate(1);
    const gated = new FakeTtsEngine({ partsPerSentence: 3, beforeRequest: laterSentences.beforeRequest });
    const own = await buildTestApp({ engine: gated });
    try {
      const ownUrl = await own.app.listen({ host: '127.0.0.1', port: 0 });
      const response = await fetch(`${ownUrl}/tts/voice_clone/sse?model_size=0.6b`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(SEED_BODY),
        signal: AbortSignal.timeout(30_000),
      });
      let partsAtFirstAudio: number | undefined;
      let done = false;
      for await (const event of readEvents(response)) {
        if (event.event === 'audio' && partsAtFirstAudio === undefined) {
          partsAtFirstAudio = gated.partsYielded;
          laterSentences.release();
        }
        if (event.event === 'done') done = true;
      }
      assert.ok(partsAtFirstAudio !== undefined && done, 'audio events, then done');
      assert.ok(
        partsAtFirstAudio <= 3,
        `the first audio came after ${partsAtFirstAudio} parts: later sentences had been generated`,
      );
      assert.ok(gated.requests.length >= 3, 'every sentence was spoken');
    } finally {
      await own.close();
    }
  });

  it('honours Connection: close: says so and closes the socket when the stream ends', async () => {
    const url = new URL(`${baseUrl}/tts/voice_clone/sse?model_size=0.6b`);
    const closed = await new Promise<{ connection: string | undefined; closedAfterEndMs: number }>(
      (resolve, reject) => {
        const request = http.request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', connection: 'close' },
          timeout: 10000,
        });
        request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
        request.on('error', reject);
        request.on('response', (response) => {
          let endedAt = 0;
          response.resume();
          response.on('end', () => (endedAt = performance.now()));
          response.socket.on('close', () =>
            resolve({
              connection: response.headers.connection,
              closedAfterEndMs: performance.now() - endedAt,
            }),
          );
        });
        request.end(JSON.stringify(SEED_BODY));
      },
    );
    assert.equal(closed.connection, 'close');
    assert.ok(closed.closedAfterEndMs < 1000, `closed ${closed.closedAfterEndMs} ms after the end`);
  });

  it('cancels generation when the client disconnects', async () => {
    engine.requests.length = 0;
    const cancelledBefore = engine.cancelledRequests;
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/tts/voice_clone/sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SEED_BODY),
      signal: controller.signal,
    });
    const events = readEvents(response);
    for await (const event of events) {
      if (event.event === 'audio') break;
    }
    controller.abort();
    await eventually(
      () => engine.cancelledRequests,
      (count) => count > cancelledBefore,
      3000,
    );
    assert.ok(engine.cancelledRequests > cancelledBefore, 'the engine saw the cancellation');
    const requestsAfterCancel = engine.requests.length;
    await sleep(400);
    assert.equal(engine.requests.length, requestsAfterCancel, 'no further sentences were started');
    assert.equal(requestsAfterCancel, 1);
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    assert.match(metrics, /tts_requests_total\{model="base_0\.6b",outcome="cancelled"\} 1/);
  });
});

describe('a streaming client that does not read', () => {
  const text = Array.from({ length: 300 }, (_, i) => `${i + 1}번째 문장.`).join(' ');
  const streams = [
    { name: 'seed SSE', url: '/tts/voice_clone/sse?model_size=0.6b', body: { ...SEED_BODY, text } },
    {
      name: 'OpenAI SSE',
      url: '/v1/audio/speech',
      body: { input: text, voice: 'interviewer', response_format: 'pcm', stream_format: 'sse' },
    },
    {
      name: 'OpenAI audio stream',
      url: '/v1/audio/speech',
      body: { input: text, voice: 'interviewer', response_format: 'pcm', stream_format: 'audio' },
    },
  ];
  for (const stream of streams) {
    it(`${stream.name}: generation pauses while the client is behind, and the stream ends after STREAM_STALL_TIMEOUT_S`, async () => {
      const engine = new FakeTtsEngine({ partsPerSentence: 20 });
      const test = await buildTestApp({ engine, environment: { STREAM_STALL_TIMEOUT_S: '2' } });
      writeReferenceAudio(path.join(test.referenceDirectory, 'interviewer.wav'), 3, 180);
      writeFileSync(path.join(test.referenceDirectory, 'interviewer.txt'), '안녕하세요, 반갑습니다.\n');
      try {
        const baseUrl = await test.app.listen({ host: '127.0.0.1', port: 0 });
        const request = http.request(`${baseUrl}${stream.url}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        });
        request.on('error', () => {});
        // Reads nothing at all, like a client on a dead network.
        request.on('response', (response) => response.pause());
        request.end(JSON.stringify(stream.body));
        await sleep(1500);
        const startedWhileStalled = engine.requests.length;
        assert.ok(
          startedWhileStalled > 0 && startedWhileStalled < 300,
          `generation paused (${startedWhileStalled} of 300 sentences started)`,
        );
        // The server ends the stalled stream after 2 s, which frees the only engine slot: a request
        // queued behind it completes (it would wait for ever if the stalled stream held the slot).
        const next = await Promise.race([
          test.app.inject({ method: 'POST', url: '/tts/voice_clone', payload: SEED_BODY }),
          sleep(8000).then(() => assert.fail('the stalled stream still holds the engine')),
        ]);
        assert.equal(next.statusCode, 200);
        request.destroy();
        assert.ok(engine.requests.length < 300, 'the rest was never generated');
      } finally {
        await test.close();
      }
    });
  }
});

describe('a client that stops reading and the engine slot', () => {
  it('gives the slot up while it is behind, so a request queued behind it is served, and goes on when it reads again', async () => {
    const text = Array.from({ length: 300 }, (_, i) => `${i + 1}번째 문장.`).join(' ');
    const engine = new FakeTtsEngine({ partsPerSentence: 20 });
    // A long stall timeout: the stalled stream stays open all through this test.
    const test = await buildTestApp({
      engine,
      environment: { STREAM_STALL_TIMEOUT_S: '60', QUEUE_CONCURRENCY: '1' },
    });
    try {
      const baseUrl = await test.app.listen({ host: '127.0.0.1', port: 0 });
      const request = http.request(`${baseUrl}/tts/voice_clone/sse?model_size=0.6b`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      request.on('error', () => {});
      const stalled = new Promise<http.IncomingMessage>((resolve) =>
        request.on('response', (response) => {
          response.pause();
          resolve(response);
        }),
      );
      request.end(JSON.stringify({ ...SEED_BODY, text }));
      const response = await stalled;
      await sleep(1500);
      const startedWhileStalled = engine.requests.length;
      assert.ok(startedWhileStalled < 300, `generation paused (${startedWhileStalled} of 300 sentences)`);
      const next = await Promise.race([
        test.app.inject({ method: 'POST', url: '/tts/voice_clone', payload: SEED_BODY }),
        sleep(8000).then(() => assert.fail('the stalled stream still holds the only engine slot')),
      ]);
      assert.equal(next.statusCode, 200);
      // The client reads again: its stream takes a slot back and finishes with `done`.
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.resume();
      await Promise.race([
        new Promise<void>((resolve) => response.on('end', () => resolve())),
        sleep(30000).then(() => assert.fail('the resumed stream did not finish')),
      ]);
      assert.match(body, /event: done/);
    } finally {
      await test.close();
    }
  });
});

describe('SSE timing', () => {
  it('reports in each audio event the time that chunk took (the seed page adds them up)', async () => {
    const engine = new FakeTtsEngine({ partDelayMs: 60 });
    const test = await buildTestApp({ engine });
    try {
      const response = await test.app.inject({
        method: 'POST',
        url: '/tts/voice_clone/sse',
        payload: SEED_BODY,
      });
      const events = parseSse(response.body) as { event: string; data: Record<string, number> }[];
      const chunks = events
        .filter((event) => event.event === 'audio')
        .map((event) => event.data.generation_time);
      const total = events.find((event) => event.event === 'done')!.data.total_time;
      const sum = chunks.reduce((a, b) => a + b, 0);
      assert.ok(chunks.length >= 3);
      assert.ok(sum <= total + 0.01 && sum > total * 0.8, `chunks add up to ${sum}, the whole took ${total}`);
    } finally {
      await test.close();
    }
  });
});
