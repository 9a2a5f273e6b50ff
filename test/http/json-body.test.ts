import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OFF_THREAD_JSON_BYTES } from '../../src/http/requests/json-body-parser.ts';
import { JsonParseThread } from '../../src/http/requests/json-parse-thread.ts';
import { buildTestApp, SEED_BODY, type TestApp } from '../helper.ts';

describe('JSON bodies', () => {
  let test: TestApp;
  before(async () => {
    test = await buildTestApp();
  });
  after(() => test.close());

  const post = (payload: string) =>
    test.app.inject({
      method: 'POST',
      url: '/tts/voice_clone',
      headers: { 'content-type': 'application/json' },
      payload,
    });
  const large = (fields: Record<string, unknown>) => {
    const body = JSON.stringify({ ...SEED_BODY, ...fields });
    assert.ok(
      Buffer.byteLength(body) >= OFF_THREAD_JSON_BYTES,
      'large enough to be parsed off the main thread',
    );
    return body;
  };

  it('reads a large body as a small one: the route sees every field', async () => {
    const response = await post(large({ ref_text: '가'.repeat(100_000) }));
    assert.equal(response.statusCode, 413, response.body);
    assert.match(response.body, /ref_text/);
    const small = await post(JSON.stringify({ ...SEED_BODY, text: '안녕하세요.' }));
    assert.equal(small.statusCode, 200, small.body);
  });

  for (const [size, pad] of [
    ['small', ''],
    ['large', 'x'.repeat(OFF_THREAD_JSON_BYTES)],
  ] as const) {
    it(`refuses invalid JSON in a ${size} body with the same 422`, async () => {
      const response = await post(`{"text": "${pad}", "ref_audio": `);
      assert.equal(response.statusCode, 422, response.body);
      assert.match(response.body, /json_invalid/);
    });

    it(`refuses a __proto__ key in a ${size} body (prototype poisoning)`, async () => {
      const response = await post(`{"text": "${pad}", "generation_params": {"__proto__": {"admin": true}}}`);
      assert.equal(response.statusCode, 422, response.body);
      assert.match(response.body, /json_invalid/);
    });
  }
});

describe('JsonParseThread', () => {
  it('parses on its own thread: the body is handed over, and the value comes back whole', async () => {
    const thread = new JsonParseThread();
    try {
      const value = {
        text: '안녕하세요 '.repeat(50_000),
        nested: [1, 2.5, null, { deep: true }],
        constructor: 'kept',
      };
      const body = Buffer.from(`\ufeff${JSON.stringify(value)}`);
      const parsing = thread.parse(body);
      assert.equal(body.buffer.byteLength, 0, 'the bytes moved to the thread, not parsed here');
      assert.deepEqual(await parsing, value);
      await assert.rejects(thread.parse(Buffer.from('[1, 2')), SyntaxError);
      await assert.rejects(
        thread.parse(Buffer.from('{"a": {"__proto__": {}}}')),
        /forbidden prototype property/,
      );
    } finally {
      await thread.close();
    }
  });

  it('starts again after its thread stops', async () => {
    const thread = new JsonParseThread();
    try {
      assert.deepEqual(await thread.parse(Buffer.from('{"a":1}')), { a: 1 });
      await thread.close();
      assert.deepEqual(await thread.parse(Buffer.from('{"b":2}')), { b: 2 });
    } finally {
      await thread.close();
    }
  });
});
