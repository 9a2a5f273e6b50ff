import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { z } from 'zod';
import {
  errorDetailSchema,
  openAiErrorDetailSchema,
  openAiValidationErrorSchema,
  validationErrorSchema,
} from '../../src/http/schemas/error-schemas.ts';
import {
  normalizeResultSchema,
  ttsSseEvents,
  voiceCloneListSchema,
  voiceListSchema,
} from '../../src/http/schemas/speech-response-schemas.ts';
import {
  healthSchema,
  infoSchema,
  loadResultSchema,
  readySchema,
} from '../../src/http/schemas/system-response-schemas.ts';
import {
  avatarListSchema,
  submittedJobSchema,
  videoJobStateSchema,
  videoSseEvents,
} from '../../src/http/schemas/video-doc-schemas.ts';
import { buildTestApp, parseSse, SEED_BODY, SEED_REFERENCE_NAME, type TestApp } from '../helper.ts';
import { FakeLipsyncEngine } from '../support/fake-lipsync-engine.ts';
import { multipart } from '../support/multipart.ts';

/**
 * The body is what the schema documents: it parses, and parsing drops nothing (a plain object
 * schema strips fields it does not name, so a field the document forgot shows as a difference).
 */
function assertDocumented(schema: z.ZodType, body: unknown, what: string): void {
  const parsed = schema.safeParse(body);
  assert.ok(parsed.success, `${what}: ${parsed.error?.message}`);
  assert.deepEqual(parsed.data, body, `${what} has fields its schema does not document`);
}

/** The answers the routes really give match /openapi.json's schemas for them. */
describe('answers as the OpenAPI document describes them', () => {
  let test: TestApp;
  before(async () => {
    test = await buildTestApp({
      lipsync: new FakeLipsyncEngine('audio'),
      environment: { ENABLE_VIDEO: 'true' },
    });
    // A named voice for /v1/audio/voices.
    copyFileSync(
      path.join(test.referenceDirectory, SEED_REFERENCE_NAME),
      path.join(test.referenceDirectory, 'interviewer.mp3'),
    );
  });
  after(async () => test.close());

  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    test.app.inject({ method, url, ...(payload ? { payload } : {}) });

  it('system routes', async () => {
    assertDocumented(healthSchema, (await call('GET', '/health')).json(), '/health');
    assertDocumented(infoSchema, (await call('GET', '/info')).json(), '/info');
    assertDocumented(loadResultSchema, (await call('POST', '/load/base_0.6b')).json(), '/load');
    assertDocumented(readySchema, (await call('GET', '/ready')).json(), '/ready');
  });

  it('speech, its events and its errors', async () => {
    const list = await call('POST', '/tts/voice_clone', { ...SEED_BODY, text: ['하나.', '둘.'] });
    assertDocumented(voiceCloneListSchema, list.json(), 'the list answer');
    const events = parseSse((await call('POST', '/tts/voice_clone/sse', SEED_BODY)).body);
    assert.deepEqual([events[0].event, events.at(-1)?.event], ['meta', 'done']);
    for (const { event, data } of events) {
      const schema = ttsSseEvents[event as keyof typeof ttsSseEvents];
      assert.ok(schema, `undocumented event ${event}`);
      assertDocumented(schema, data, `event ${event}`);
    }
    const invalid = await call('POST', '/tts/voice_clone', { text: 'x' });
    assert.equal(invalid.statusCode, 422);
    assertDocumented(validationErrorSchema, invalid.json(), 'a 422');
    const missing = await call('POST', '/tts/voice_clone', { ...SEED_BODY, ref_audio: 'nowhere.mp3' });
    assert.equal(missing.statusCode, 404);
    assertDocumented(errorDetailSchema, missing.json(), 'a 404');
    const normalized = await call('POST', '/text/normalize', { text: '3시 30분', language: 'Korean' });
    assertDocumented(normalizeResultSchema, normalized.json(), '/text/normalize');
  });

  it('the OpenAI routes, whose errors carry OpenAI’s object too', async () => {
    assertDocumented(voiceListSchema, (await call('GET', '/v1/audio/voices')).json(), '/v1/audio/voices');
    const invalid = await call('POST', '/v1/audio/speech', { input: 'x', speed: 9, voice: 'interviewer' });
    assert.equal(invalid.statusCode, 422);
    assertDocumented(openAiValidationErrorSchema, invalid.json(), 'an OpenAI 422');
  });

  it('video: avatars, events and jobs', async () => {
    assertDocumented(avatarListSchema, (await call('GET', '/video/avatars')).json(), '/video/avatars');
    const form = { text: SEED_BODY.text, ref_audio: SEED_BODY.ref_audio, avatar: 'interviewer.jpg' };
    const sse = await test.app.inject({ method: 'POST', url: '/video/generate/sse', ...multipart(form) });
    const events = parseSse(sse.body);
    assert.deepEqual([events[0].event, events.at(-1)?.event], ['meta', 'done']);
    for (const { event, data } of events) {
      const schema = videoSseEvents[event as keyof typeof videoSseEvents];
      assert.ok(schema, `undocumented event ${event}`);
      assertDocumented(schema, data, `event ${event}`);
    }
    const submitted = await test.app.inject({ method: 'POST', url: '/video/jobs', ...multipart(form) });
    assert.equal(submitted.statusCode, 202);
    assertDocumented(submittedJobSchema, submitted.json(), 'a submitted job');
    const state = await call('GET', `/video/jobs/${submitted.json<{ job_id: string }>().job_id}`);
    assertDocumented(videoJobStateSchema, state.json(), 'a job’s state');
  });
});

describe('401 answers as the OpenAPI document describes them', () => {
  it('is the plain error, with OpenAI’s object on the /v1 routes', async () => {
    const test = await buildTestApp({ environment: { API_KEY: 'secret' } });
    try {
      const info = await test.app.inject({ method: 'GET', url: '/info' });
      assert.equal(info.statusCode, 401);
      assertDocumented(errorDetailSchema, info.json(), 'a 401');
      const voices = await test.app.inject({ method: 'GET', url: '/v1/audio/voices' });
      assert.equal(voices.statusCode, 401);
      assertDocumented(openAiErrorDetailSchema, voices.json(), 'an OpenAI 401');
    } finally {
      await test.close();
    }
  });
});
