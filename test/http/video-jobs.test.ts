import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postWebhook, webhookSignature } from '../../src/core/webhook.ts';
import { buildTestApp, eventually, SEED_BODY, type TestApp } from '../helper.ts';
import { FakeLipsyncEngine } from '../support/fake-lipsync-engine.ts';
import { multipart } from '../support/multipart.ts';
import { webhookReceiver } from '../support/webhook-receiver.ts';

const FORM = {
  text: SEED_BODY.text,
  ref_audio: SEED_BODY.ref_audio,
  ref_text: SEED_BODY.ref_text,
  avatar: 'teacher.png',
};

describe('video jobs', () => {
  let test: TestApp;
  let lipsync: FakeLipsyncEngine;
  before(async () => {
    lipsync = new FakeLipsyncEngine('audio');
    test = await buildTestApp({
      lipsync,
      environment: { ENABLE_VIDEO: 'true', WEBHOOK_SECRET: 's3cret', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' },
    });
  });
  after(async () => test.close());

  const job = async (id: string) =>
    (await test.app.inject({ method: 'GET', url: `/video/jobs/${id}` })).json();

  it('renders in the background, reports the result, and calls back signed', async () => {
    const hook = await webhookReceiver();
    try {
      const submitted = await test.app.inject({
        method: 'POST',
        url: '/video/jobs',
        ...multipart({ ...FORM, callback_url: hook.url }),
      });
      assert.equal(submitted.statusCode, 202, submitted.body);
      const { job_id: id, status, status_url: statusUrl } = submitted.json();
      assert.ok(['queued', 'running'].includes(status), status);
      assert.equal(submitted.headers.location, statusUrl);
      const done = await eventually(
        () => job(id),
        (state) => state.status === 'succeeded',
      );
      assert.match(done.video_url, /^\/video\/files\/[0-9a-f-]{36}\.mp4$/);
      assert.equal(done.avatar_used, 'teacher.png');
      const video = await test.app.inject({ method: 'GET', url: done.video_url });
      assert.equal(video.body, 'fake mp4 bytes');

      await eventually(
        async () => hook.calls.length,
        (count) => count === 1,
      );
      const [call] = hook.calls;
      assert.deepEqual(JSON.parse(call.body), done);
      const timestamp = String(call.headers['x-timestamp']);
      assert.equal(call.headers['x-signature'], webhookSignature('s3cret', timestamp, call.body));
    } finally {
      await hook.close();
    }
  });

  it('cancels a running job', async () => {
    lipsync.renderDelayMs = 10000;
    try {
      const { job_id: id } = (
        await test.app.inject({ method: 'POST', url: '/video/jobs', ...multipart(FORM) })
      ).json();
      await eventually(
        () => job(id),
        (state) => state.status === 'running',
      );
      const cancelled = await test.app.inject({ method: 'DELETE', url: `/video/jobs/${id}` });
      assert.equal(cancelled.statusCode, 200);
      const final = await eventually(
        () => job(id),
        (state) => state.status === 'cancelled',
        3000,
      );
      assert.equal(final.error.code, 'cancelled');
    } finally {
      lipsync.renderDelayMs = 0;
    }
  });

  it('reports a failed job with what was wrong', async () => {
    const { InvalidInputError } = await import('../../src/errors.ts');
    lipsync.failWith = new InvalidInputError('no face was found in avatar_image', { statusCode: 422 });
    try {
      const { job_id: id } = (
        await test.app.inject({ method: 'POST', url: '/video/jobs', ...multipart(FORM) })
      ).json();
      const final = await eventually(
        () => job(id),
        (state) => state.status === 'failed',
      );
      assert.deepEqual(final.error, {
        detail: 'no face was found in avatar_image',
        code: 'invalid_input',
        status_code: 422,
      });
    } finally {
      lipsync.failWith = undefined;
    }
  });

  it('refuses a bad callback_url and bad form fields before accepting the job', async () => {
    const badUrl = await test.app.inject({
      method: 'POST',
      url: '/video/jobs',
      ...multipart({ ...FORM, callback_url: 'ftp://example.com/hook' }),
    });
    assert.equal(badUrl.statusCode, 422);
    assert.match(badUrl.json().detail, /callback_url must be http/);
    const badForm = await test.app.inject({
      method: 'POST',
      url: '/video/jobs',
      ...multipart({ ...FORM, model_size: '7b' }),
    });
    assert.equal(badForm.statusCode, 422);
  });

  it('answers 404 for a job it does not know', async () => {
    const response = await test.app.inject({ method: 'GET', url: '/video/jobs/nope' });
    assert.equal(response.statusCode, 404);
    assert.match(response.json().detail, /no video job nope/);
  });
});

describe('postWebhook', () => {
  const noWait = { secret: '', allowPrivateAddresses: true, backoffSeconds: [0, 0] };

  it('retries a 5xx and delivers on a later attempt', async () => {
    const hook = await webhookReceiver([503]);
    try {
      const result = await postWebhook(new URL(hook.url), { ok: true }, noWait);
      assert.deepEqual(result, { delivered: true, status: 200, attempts: 2 });
    } finally {
      await hook.close();
    }
  });

  it('does not retry a 4xx', async () => {
    const hook = await webhookReceiver([404]);
    try {
      const result = await postWebhook(new URL(hook.url), { ok: true }, noWait);
      assert.deepEqual(result, { delivered: false, status: 404, attempts: 1 });
    } finally {
      await hook.close();
    }
  });

  it('never calls a private address unless allowed', async () => {
    const hook = await webhookReceiver();
    try {
      const result = await postWebhook(
        new URL(hook.url),
        { ok: true },
        { ...noWait, allowPrivateAddresses: false },
      );
      assert.equal(result.delivered, false);
      assert.match(result.error!, /loopback, private or link-local/);
      assert.equal(hook.calls.length, 0);
    } finally {
      await hook.close();
    }
  });
});
