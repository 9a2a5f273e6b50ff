import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp, eventually, SEED_BODY, type TestApp } from '../helper.ts';
import { requestGate } from '../support/fake-tts-engine.ts';

/** The value of one series in Prometheus's text format, or undefined when it is absent. */
function series(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return undefined;
}

async function scrape(test: TestApp): Promise<string> {
  const response = await test.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return response.body;
}

describe('GET /metrics', () => {
  it('counts speech by outcome, with time to first audio, real-time factor and queue waits', async () => {
    const test = await buildTestApp({ engineOptions: { failAfterParts: 5, partsPerSentence: 2 } });
    try {
      const ok = await test.app.inject({
        method: 'POST',
        url: '/tts/voice_clone',
        payload: { ...SEED_BODY, text: '안녕하세요.' },
      });
      assert.equal(ok.statusCode, 200, ok.body);
      // Three sentences of two parts each: the fake engine fails at its fifth part, mid-stream.
      const failing = await test.app.inject({
        method: 'POST',
        url: '/tts/voice_clone/sse',
        payload: SEED_BODY,
      });
      assert.match(failing.body, /event: error/);

      const text = await scrape(test);
      const model = { model: 'base_0.6b' };
      assert.equal(series(text, 'tts_requests_total', { ...model, outcome: 'ok' }), 1);
      assert.equal(series(text, 'tts_requests_total', { ...model, outcome: 'failed' }), 1);
      assert.equal(series(text, 'tts_time_to_first_audio_seconds_count', model), 2);
      assert.equal(series(text, 'tts_real_time_factor_count', model), 1, 'only finished speech has an RTF');
      assert.ok(series(text, 'tts_audio_seconds_total', model)! > 0);
      assert.equal(series(text, 'queue_wait_seconds_count', { queue: 'speech' }), 2);
      assert.equal(series(text, 'queue_active', { queue: 'speech' }), 0);
      assert.equal(
        series(text, 'http_request_duration_seconds_count', {
          method: 'POST',
          route: '/tts/voice_clone',
          status: '200',
        }),
        1,
      );
      assert.ok(series(text, 'process_resident_memory_bytes')! > 0, 'process metrics too');
    } finally {
      await test.close();
    }
  });

  it('counts requests refused by a full queue', async () => {
    // The first request holds the one slot until the second has been refused.
    const gate = requestGate(0);
    const test = await buildTestApp({
      engineOptions: { beforeRequest: gate.beforeRequest },
      environment: { QUEUE_CONCURRENCY: '1', QUEUE_MAX_PENDING: '0' },
    });
    try {
      const first = test.app.inject({ method: 'POST', url: '/tts/voice_clone', payload: SEED_BODY });
      // Refused only once the first holds the one slot: wait for that, not for a fixed time.
      await eventually(
        async () => series(await scrape(test), 'queue_active', { queue: 'speech' }),
        (active) => active === 1,
        5000,
      );
      const refused = await test.app.inject({ method: 'POST', url: '/tts/voice_clone', payload: SEED_BODY });
      assert.equal(refused.statusCode, 503);
      assert.equal(series(await scrape(test), 'queue_refused_total', { queue: 'speech' }), 1);
      gate.release();
      assert.equal((await first).statusCode, 200);
    } finally {
      gate.release();
      await test.close();
    }
  });

  it('is absent with METRICS_ENABLED=false', async () => {
    const test = await buildTestApp({ environment: { METRICS_ENABLED: 'false' } });
    try {
      assert.equal((await test.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    } finally {
      await test.close();
    }
  });
});
