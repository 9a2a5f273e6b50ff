import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, eventually, SEED_BODY, type TestApp } from '../helper.ts';
import { FakeTtsEngine } from '../support/fake-tts-engine.ts';

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
    engine.requests.length = 0;
    const startedAt = performance.now();
    const response = await fetch(`${baseUrl}/tts/voice_clone/sse?model_size=0.6b`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SEED_BODY),
      signal: AbortSignal.timeout(10000),
    });
    let firstAudioAt: number | undefined;
    let sentencesStartedAtFirstAudio = 0;
    let doneAt: number | undefined;
    for await (const event of readEvents(response)) {
      if (event.event === 'audio' && firstAudioAt === undefined) {
        firstAudioAt = event.at;
        sentencesStartedAtFirstAudio = engine.requests.length;
      }
      if (event.event === 'done') doneAt = event.at;
    }
    assert.ok(firstAudioAt !== undefined && doneAt !== undefined);
    assert.equal(sentencesStartedAtFirstAudio, 1, 'only the first sentence had started');
    assert.ok(engine.requests.length >= 3);
    assert.ok(firstAudioAt - startedAt < (doneAt - startedAt) / 2, 'the first audio came early');
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
