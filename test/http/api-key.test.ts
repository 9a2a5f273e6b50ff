import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, SEED_BODY, type TestApp } from '../helper.ts';

const KEY = 'test-key-0123456789';

describe('API_KEY', () => {
  let test: TestApp;
  before(async () => {
    test = await buildTestApp({ environment: { API_KEY: KEY } });
  });
  after(async () => test.close());

  const speak = (headers: Record<string, string>) =>
    test.app.inject({ method: 'POST', url: '/tts/voice_clone', payload: SEED_BODY, headers });

  it('refuses a request without the key with a 401 that says how to send it', async () => {
    const response = await speak({ origin: 'https://app.example' });
    assert.equal(response.statusCode, 401);
    assert.match(response.json().detail, /Authorization: Bearer <key> or X-API-Key/);
    assert.ok(response.headers['access-control-allow-origin'], 'a browser can read the refusal');
  });

  it('refuses a wrong key', async () => {
    const response = await speak({ authorization: 'Bearer nope' });
    assert.equal(response.statusCode, 401);
    assert.match(response.json().detail, /not valid/);
  });

  it('accepts the key as a Bearer token (OpenAI SDKs) or as X-API-Key', async () => {
    assert.equal((await speak({ authorization: `Bearer ${KEY}` })).statusCode, 200);
    assert.equal((await speak({ 'x-api-key': KEY })).statusCode, 200);
  });

  for (const url of [
    '/health',
    '/ready',
    '/metrics',
    '/docs/json',
    '/openapi.json',
    '/ui',
    '/video/files/00000000-0000-4000-8000-000000000000.mp4',
  ]) {
    it(`leaves ${url} open`, async () => {
      const response = await test.app.inject({ method: 'GET', url });
      assert.notEqual(response.statusCode, 401);
    });
  }

  it('takes the key as ?api_key= on the WebSocket stream, which browsers cannot give headers', async () => {
    await assert.rejects(test.app.injectWS('/v1/audio/speech/stream'));
    const socket = await test.app.injectWS(`/v1/audio/speech/stream?api_key=${KEY}`);
    socket.terminate();
  });
});
