import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { webhookSignature } from '../../src/core/webhook.ts';
import { InvalidInputError } from '../../src/errors.ts';
import { buildTestApp, eventually, SEED_BODY, type TestApp } from '../helper.ts';
import { FakeLipsyncEngine } from '../support/fake-lipsync-engine.ts';
import { multipart } from '../support/multipart.ts';
import { webhookReceiver } from '../support/webhook-receiver.ts';
import { freePort } from '../../bench/abuse/server-process.ts';
import { redisServerMissing, startRedis, type TestRedis } from '../support/redis-server.ts';

const FORM = {
  text: SEED_BODY.text,
  ref_audio: SEED_BODY.ref_audio,
  ref_text: SEED_BODY.ref_text,
  avatar: 'teacher.png',
};

const missing = redisServerMissing();

/**
 * Two servers (apps in this process, each with its own engines, worker and video folder) sharing
 * their video jobs through one Redis: what either accepts, both report, cancel and serve.
 */
describe('video jobs shared through Redis', { skip: missing }, () => {
  let redis: TestRedis;
  let a: TestApp;
  let b: TestApp;
  const lipsync = { a: new FakeLipsyncEngine('audio'), b: new FakeLipsyncEngine('audio') };
  const both = (change: (engine: FakeLipsyncEngine) => void) => Object.values(lipsync).forEach(change);

  before(async () => {
    redis = await startRedis();
    const environment = {
      ENABLE_VIDEO: 'true',
      REDIS_URL: redis.url,
      WEBHOOK_SECRET: 's3cret',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    };
    a = await buildTestApp({ lipsync: lipsync.a, environment });
    b = await buildTestApp({ lipsync: lipsync.b, environment });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  const job = async (app: TestApp, id: string) =>
    (await app.app.inject({ method: 'GET', url: `/video/jobs/${id}` })).json();
  const submit = async (app: TestApp, form: Record<string, string> = FORM) => {
    const response = await app.app.inject({ method: 'POST', url: '/video/jobs', ...multipart(form) });
    assert.equal(response.statusCode, 202, response.body);
    return response.json().job_id as string;
  };
  /** The app whose engine rendered (or renders) the latest request, and the other. */
  const renderer = () =>
    lipsync.a.requests.length > lipsync.b.requests.length ? { runs: a, other: b } : { runs: b, other: a };

  it('reports, calls back and serves on one server a job submitted on another', async () => {
    const hook = await webhookReceiver();
    try {
      const submitted = await a.app.inject({
        method: 'POST',
        url: '/video/jobs',
        ...multipart({ ...FORM, callback_url: hook.url }),
      });
      assert.equal(submitted.statusCode, 202, submitted.body);
      const { job_id: id, status, status_url: statusUrl } = submitted.json();
      assert.equal(status, 'queued');
      assert.equal(submitted.headers.location, statusUrl);
      const done = await eventually(
        () => job(b, id),
        (state) => state.status === 'succeeded',
      );
      assert.deepEqual(await job(a, id), done);
      assert.match(done.video_url, /^\/video\/files\/[0-9a-f-]{36}\.mp4$/);
      assert.equal(done.avatar_used, 'teacher.png');
      assert.deepEqual(done.progress, { stage: 'lipsync', fraction: 0.5 });
      // Both serve it: the one that rendered it from its folder, the other from Redis.
      for (const app of [a, b]) {
        const video = await app.app.inject({ method: 'GET', url: done.video_url });
        assert.equal(video.statusCode, 200);
        assert.equal(video.body, 'fake mp4 bytes');
      }
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

  it('cancels a running job from the server that does not run it', async () => {
    both((engine) => (engine.renderDelayMs = 10000));
    try {
      const id = await submit(a);
      await eventually(
        () => job(a, id),
        (state) => state.status === 'running',
      );
      const { runs, other } = renderer();
      const cancelled = await other.app.inject({ method: 'DELETE', url: `/video/jobs/${id}` });
      assert.equal(cancelled.statusCode, 200);
      const final = await eventually(
        () => job(runs, id),
        (state) => state.status === 'cancelled',
        3000,
      );
      assert.deepEqual(final.error, { detail: 'the job was cancelled', code: 'cancelled', status_code: 499 });
      assert.deepEqual(await job(other, id), final);
    } finally {
      both((engine) => (engine.renderDelayMs = 0));
    }
  });

  it('cancels a queued job at once, and calls it back', async () => {
    both((engine) => (engine.renderDelayMs = 10000));
    const hook = await webhookReceiver();
    const busy: string[] = [];
    try {
      // One job per server keeps both busy, so the next one waits.
      busy.push(await submit(a), await submit(b));
      await eventually(
        async () => Promise.all(busy.map((id) => job(a, id))),
        (states) => states.every((state) => state.status === 'running'),
      );
      const id = await submit(b, { ...FORM, callback_url: hook.url });
      assert.equal((await job(a, id)).status, 'queued');
      const cancelled = (await a.app.inject({ method: 'DELETE', url: `/video/jobs/${id}` })).json();
      assert.equal(cancelled.status, 'cancelled');
      assert.equal(cancelled.error.code, 'cancelled');
      assert.deepEqual(await job(b, id), cancelled);
      await eventually(
        async () => hook.calls.length,
        (count) => count === 1,
      );
      assert.deepEqual(JSON.parse(hook.calls[0].body), cancelled);
      // Cancelling what has ended changes nothing.
      assert.deepEqual(
        (await b.app.inject({ method: 'DELETE', url: `/video/jobs/${id}` })).json(),
        cancelled,
      );
    } finally {
      for (const id of busy) await a.app.inject({ method: 'DELETE', url: `/video/jobs/${id}` });
      both((engine) => (engine.renderDelayMs = 0));
      await hook.close();
    }
    for (const id of busy)
      await eventually(
        () => job(b, id),
        (state) => state.status === 'cancelled',
        3000,
      );
  });

  it('reports a failed job with what was wrong', async () => {
    both(
      (engine) =>
        (engine.failWith = new InvalidInputError('no face was found in avatar_image', { statusCode: 422 })),
    );
    try {
      const id = await submit(b);
      const final = await eventually(
        () => job(a, id),
        (state) => state.status === 'failed',
      );
      assert.deepEqual(final.error, {
        detail: 'no face was found in avatar_image',
        code: 'invalid_input',
        status_code: 422,
      });
    } finally {
      both((engine) => (engine.failWith = undefined));
    }
  });

  it('answers 404 for a job no server knows', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-job']) {
      const response = await b.app.inject({ method: 'GET', url: `/video/jobs/${id}` });
      assert.equal(response.statusCode, 404);
      assert.equal(response.json().code, 'job_not_found');
      assert.equal((await b.app.inject({ method: 'DELETE', url: `/video/jobs/${id}` })).statusCode, 404);
    }
  });

  it('says when Redis is lost (health degraded, job routes 503) and takes jobs again once it is back', async () => {
    await redis.stop();
    try {
      const health = await eventually(
        async () => (await a.app.inject({ method: 'GET', url: '/health' })).json(),
        (body) => body.status === 'degraded',
      );
      assert.equal(health.video_jobs.ok, false);
      assert.match(health.video_jobs.message, /REDIS_URL/);
      const documented = (await a.app.inject({ method: 'GET', url: '/openapi.json' })).json().paths['/health']
        .get.responses['200'].content['application/json'].schema.properties;
      for (const field of Object.keys(health)) assert.ok(field in documented, `/health documents ${field}`);
      const refused = await a.app.inject({ method: 'POST', url: '/video/jobs', ...multipart(FORM) });
      assert.equal(refused.statusCode, 503, refused.body);
      assert.equal(refused.json().code, 'queue_unavailable');
      assert.match(refused.json().detail, /Redis \(REDIS_URL\).*cannot be reached/);
      const read = await b.app.inject({
        method: 'GET',
        url: '/video/jobs/00000000-0000-4000-8000-000000000000',
      });
      assert.equal(read.statusCode, 503);
    } finally {
      await redis.start();
    }
    await eventually(
      async () => (await a.app.inject({ method: 'GET', url: '/health' })).json().status,
      (status) => status === 'ok',
      10000,
    );
    await eventually(
      async () => (await b.app.inject({ method: 'GET', url: '/health' })).json().status,
      (status) => status === 'ok',
      10000,
    );
    const id = await submit(a);
    await eventually(
      () => job(b, id),
      (state) => state.status === 'succeeded',
      15000,
    );
  });
});

describe('REDIS_URL at startup', { skip: missing }, () => {
  it('stops startup with an error naming REDIS_URL when nothing answers there', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    await assert.rejects(
      buildTestApp({
        lipsync: new FakeLipsyncEngine('audio'),
        environment: { ENABLE_VIDEO: 'true', REDIS_URL: url },
      }),
      (error: Error) => {
        assert.match(error.message, new RegExp(`could not reach Redis at REDIS_URL=${url}/?`));
        assert.match(error.message, /start Redis there, fix REDIS_URL/);
        return true;
      },
    );
  });
});

describe('a video job whose servers keep dying', { skip: missing }, () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => redis?.stop());

  it('is reported failed, saying why, once it has stalled more than once', async () => {
    const { Queue, Worker } = await import('bullmq');
    const connection = { url: redis.url };
    const prefix = 'voiceclone';
    const queue = new Queue('video-renders', { connection, prefix });
    await queue.add('render', {}, { jobId: '11111111-1111-4111-8111-111111111111' });
    // Two servers in turn take the job and die (their lock is no longer renewed): a worker whose
    // processor never ends, closed without waiting for it.
    for (let death = 1; death <= 2; death += 1) {
      let taken!: () => void;
      const started = new Promise<void>((resolve) => (taken = resolve));
      const dying = new Worker(
        'video-renders',
        () => {
          taken();
          return new Promise(() => {});
        },
        { connection, prefix, lockDuration: 300, stalledInterval: 300, maxStalledCount: 1 },
      );
      dying.on('error', () => {});
      await Promise.race([
        started,
        new Promise((_resolve, reject) => setTimeout(() => reject(new Error('not taken')), 10000).unref()),
      ]);
      await dying.close(true);
    }
    await queue.close();
    const server = await buildTestApp({
      lipsync: new FakeLipsyncEngine('audio'),
      environment: { ENABLE_VIDEO: 'true', REDIS_URL: redis.url, VIDEO_JOB_LOCK_S: '1' },
    });
    try {
      const final = await eventually(
        async () =>
          (
            await server.app.inject({
              method: 'GET',
              url: '/video/jobs/11111111-1111-4111-8111-111111111111',
            })
          ).json(),
        (state) => state.status === 'failed',
        10000,
      );
      assert.equal(final.error.code, 'interrupted');
      assert.match(final.error.detail, /stopped .* 2 times; it is not started again: submit it again/);
    } finally {
      await server.close();
    }
  });
});
