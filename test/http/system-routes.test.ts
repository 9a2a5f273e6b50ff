import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createServices } from '../../src/app-services.ts';
import { loadConfig } from '../../src/config.ts';
import { buildApp } from '../../src/http/app.ts';
import { buildTestApp, SEED_BODY, type TestApp } from '../helper.ts';
import { FakeTtsEngine } from '../support/fake-tts-engine.ts';

describe('system routes', () => {
  let test: TestApp;
  before(async () => {
    test = await buildTestApp();
  });
  after(async () => test.close());

  for (const url of ['/', '/health']) {
    it(`GET ${url} answers the seed's shape`, async () => {
      const response = await test.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.equal(body.status, 'ok');
      assert.ok(Array.isArray(body.models_loaded));
      assert.ok(response.headers['x-request-id']);
    });
  }

  it('GET /info lists models, speakers and languages', async () => {
    const body = (await test.app.inject({ method: 'GET', url: '/info' })).json();
    assert.deepEqual(body.available_models, ['base_0.6b', 'base_1.7b']);
    assert.ok(body.supported_languages.includes('Korean'));
    assert.ok(Array.isArray(body.loaded_models));
    assert.ok(Array.isArray(body.available_speakers));
  });

  const loadCases: { name: string; url: string; status: number; includes: string }[] = [
    { name: 'a key', url: '/load/base_0.6b', status: 200, includes: 'Model base_0.6b loaded successfully' },
    {
      name: 'the alias base (1.7B)',
      url: '/load/base',
      status: 200,
      includes: 'Model base_1.7b loaded successfully',
    },
    { name: 'an unknown type', url: '/load/base_9b', status: 400, includes: 'Unknown model type: base_9b' },
    {
      name: 'a model this server does not serve',
      url: '/load/voice_design',
      status: 400,
      includes: 'not supported',
    },
  ];
  for (const testCase of loadCases) {
    it(`POST /load with ${testCase.name}`, async () => {
      const response = await test.app.inject({ method: 'POST', url: testCase.url });
      assert.equal(response.statusCode, testCase.status, response.body);
      const body = response.json();
      assert.match(testCase.status === 200 ? body.message : body.detail, new RegExp(testCase.includes));
    });
  }

  it("POST /load of a model that is not installed is a 503 with the engine's own advice", async () => {
    const other = await buildTestApp({ engine: new FakeTtsEngine({ installed: [] }) });
    try {
      const response = await other.app.inject({ method: 'POST', url: '/load/base_0.6b' });
      assert.equal(response.statusCode, 503);
      // The embedded engine's advice (pull or synth) is tested with it; a remote engine's differs.
      assert.match(response.json().detail, /npm run cli -- models pull base_0\.6b/);
      const ready = await other.app.inject({ method: 'GET', url: '/ready' });
      assert.equal(ready.statusCode, 503);
    } finally {
      await other.close();
    }
  });

  it('says in /health and /info when a loaded model is synthetic (it speaks noise)', async () => {
    const health = (await test.app.inject({ method: 'GET', url: '/health' })).json();
    assert.deepEqual(health.synthetic_models, []);
    const other = await buildTestApp({ engine: new FakeTtsEngine({ synthetic: ['base_0.6b'] }) });
    try {
      assert.deepEqual(
        (await other.app.inject({ method: 'GET', url: '/health' })).json().synthetic_models,
        [],
      );
      await other.app.inject({ method: 'POST', url: '/load/base_0.6b' });
      const loaded = (await other.app.inject({ method: 'GET', url: '/health' })).json();
      assert.equal(loaded.status, 'ok');
      assert.deepEqual(loaded.models_loaded, ['base_0.6b']);
      assert.deepEqual(loaded.synthetic_models, ['base_0.6b']);
      const info = (await other.app.inject({ method: 'GET', url: '/info' })).json();
      assert.deepEqual(info.synthetic_models, ['base_0.6b']);
      assert.equal(info.models.find((model: { key: string }) => model.key === 'base_0.6b').synthetic, true);
      assert.equal(
        info.models.find((model: { key: string }) => model.key === 'base_1.7b').synthetic,
        undefined,
      );
    } finally {
      await other.close();
    }
  });

  it('serves the OpenAPI document and interactive docs', async () => {
    const spec = await test.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(spec.statusCode, 200);
    assert.ok(spec.json().paths['/tts/voice_clone']);
    const page = await test.app.inject({ method: 'GET', url: '/docs' });
    assert.ok([200, 302].includes(page.statusCode));
    // Also where the seed's FastAPI served it.
    const atSeedPath = await test.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(atSeedPath.statusCode, 200);
    assert.deepEqual(atSeedPath.json(), spec.json());
  });

  it('serves the try-it page at /ui', async () => {
    const page = await test.app.inject({ method: 'GET', url: '/ui' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
  });

  it('answers CORS preflights from any origin by default, without credentials', async () => {
    const response = await test.app.inject({
      method: 'OPTIONS',
      url: '/tts/voice_clone',
      headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' },
    });
    assert.equal(response.statusCode, 204);
    assert.equal(response.headers['access-control-allow-origin'], '*');
    assert.equal(response.headers['access-control-allow-credentials'], undefined);
  });

  it('unknown routes are a 404 that points at the docs', async () => {
    const response = await test.app.inject({ method: 'GET', url: '/nope' });
    assert.equal(response.statusCode, 404);
    assert.match(response.json().detail, /\/docs/);
  });

  it('a wrong method on a known path is a 405 whose Allow header names the right ones', async () => {
    const post = await test.app.inject({ method: 'GET', url: '/tts/voice_clone?model_size=0.6b' });
    assert.equal(post.statusCode, 405);
    assert.equal(post.headers.allow, 'POST');
    assert.match(post.json().detail, /use POST/);
    const get = await test.app.inject({ method: 'DELETE', url: '/health' });
    assert.equal(get.statusCode, 405);
    assert.equal(get.headers.allow, 'GET, HEAD');
    const withParameter = await test.app.inject({ method: 'PUT', url: '/load/base_0.6b' });
    assert.equal(withParameter.statusCode, 405);
    assert.equal(withParameter.headers.allow, 'POST');
  });
});

describe('CORS with a list of origins', () => {
  let test: TestApp;
  before(async () => {
    test = await buildTestApp({
      environment: { CORS_ORIGINS: 'https://app.example, https://admin.example' },
    });
  });
  after(() => test.close());

  it('allows a listed origin with credentials and no other, null included', async () => {
    const preflight = (origin: string) =>
      test.app.inject({
        method: 'OPTIONS',
        url: '/tts/voice_clone',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const listed = await preflight('https://admin.example');
    assert.equal(listed.headers['access-control-allow-origin'], 'https://admin.example');
    assert.equal(listed.headers['access-control-allow-credentials'], 'true');
    for (const origin of ['https://evil.example', 'null'])
      assert.equal((await preflight(origin)).headers['access-control-allow-origin'], undefined, origin);
  });

  it('sends the same CORS headers on streaming responses as on the others', async () => {
    const headers = { origin: 'https://app.example' };
    const plain = await test.app.inject({
      method: 'POST',
      url: '/tts/voice_clone',
      payload: SEED_BODY,
      headers,
    });
    const speech = { input: '안녕하세요.', voice: 'sample(1)', response_format: 'pcm' };
    const streams = [
      { name: 'seed SSE', url: '/tts/voice_clone/sse', payload: SEED_BODY },
      { name: 'OpenAI SSE', url: '/v1/audio/speech', payload: { ...speech, stream_format: 'sse' } },
      { name: 'OpenAI audio', url: '/v1/audio/speech', payload: { ...speech, stream_format: 'audio' } },
    ];
    for (const { name: stream, url, payload } of streams) {
      const streamed = await test.app.inject({ method: 'POST', url, payload, headers });
      assert.equal(streamed.statusCode, 200, streamed.body);
      for (const name of [
        'access-control-allow-origin',
        'access-control-allow-credentials',
        'access-control-expose-headers',
      ])
        assert.equal(streamed.headers[name], plain.headers[name], `${stream}: ${name}`);
      assert.equal(streamed.headers['access-control-allow-credentials'], 'true');
    }
  });
});

describe('request logs', () => {
  it('never show the API key a WebSocket client puts in the query', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const services = await createServices(loadConfig({ LOG_LEVEL: 'silent' }), pino({ level: 'silent' }), {
      engine: new FakeTtsEngine(),
    });
    const app = await buildApp(services, { logger: { level: 'info', stream } });
    try {
      await app.inject({ method: 'GET', url: '/health?api_key=s3cret-value&x=1' });
      const logged = lines.join('');
      assert.match(logged, /api_key=%5Bredacted%5D&x=1/);
      assert.doesNotMatch(logged, /s3cret/);
    } finally {
      await app.close();
      await services.close();
    }
  });
});
