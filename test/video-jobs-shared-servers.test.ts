import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServerProcess, type ServerProcess } from '../bench/abuse/server-process.ts';
import { writeSyntheticMuseTalkModel } from '../src/models/synth-musetalk.ts';
import { buildTestApp, eventually, SEED_BODY, SEED_REFERENCE_NAME, writeReferenceAudio } from './helper.ts';
import { singleFacePhoto } from './support/face-photos.ts';
import { FakeLipsyncEngine } from './support/fake-lipsync-engine.ts';
import { multipart } from './support/multipart.ts';
import { redisServerMissing, startRedis, type TestRedis } from './support/redis-server.ts';
import { syntheticQwen3 } from './support/synthetic-models.ts';
import { temporaryDirectory } from './support/temporary-directory.ts';

const missing = redisServerMissing();

/**
 * Server processes (as deployed: `serve`, synthetic models, real lip-sync pipeline) sharing their video
 * jobs through one Redis: a job accepted by one is reported and downloaded on another, and a job whose
 * server is killed mid-render, or shut down, is finished by another server.
 */
describe('video jobs shared by server processes through Redis', { skip: missing }, () => {
  const work = temporaryDirectory('shared-jobs-');
  let redis: TestRedis;
  let photo: Buffer;
  let qwen3: string;
  const servers: ServerProcess[] = [];
  let serverCount = 0;
  const killedServers = new Set<ServerProcess>();

  const start = async () => {
    serverCount += 1;
    const own = path.join(work, `server-${serverCount}`);
    const server = await startServerProcess(
      {
        ENABLE_VIDEO: 'true',
        REDIS_URL: redis.url,
        // A server silent for 1 s about its job is taken for dead (production: 30 s).
        VIDEO_JOB_LOCK_S: '1',
        MODEL_0_6B_BASE: qwen3,
        MUSETALK_MODEL_DIR: path.join(work, 'musetalk'),
        REF_AUDIO_DIR: path.join(work, 'references'),
        VIDEO_AVATAR_DIR: path.join(work, 'avatars'),
        // Nothing shared on disk: each server its own folders, as on separate machines.
        CACHE_DIR: path.join(own, 'cache'),
        VIDEO_OUTPUT_DIR: path.join(own, 'videos'),
        SHUTDOWN_GRACE_S: '1',
        VIDEO_MAX_SIDE: '256',
        LOG_LEVEL: 'info',
      },
      undefined,
      { startTimeoutMs: 90000 },
    );
    servers.push(server);
    return server;
  };

  before(async () => {
    redis = await startRedis();
    // Each sentence ends after 25 frames (2 s of speech): renders of a few seconds here.
    qwen3 = await syntheticQwen3({ eosPosition: 25 });
    await writeSyntheticMuseTalkModel(path.join(work, 'musetalk'), { dtype: 'float32', size: 'tiny' });
    const references = path.join(work, 'references');
    mkdirSync(references, { recursive: true });
    writeReferenceAudio(path.join(references, SEED_REFERENCE_NAME));
    photo = await singleFacePhoto();
  });
  after(async () => {
    for (const server of servers) server.kill();
    await redis?.stop();
    rmSync(work, { recursive: true, force: true });
    if (qwen3) rmSync(qwen3, { recursive: true, force: true });
  });

  const submit = async (server: ServerProcess, text: string): Promise<string> => {
    const { payload, headers } = multipart(
      { text, ref_audio: SEED_BODY.ref_audio, ref_text: SEED_BODY.ref_text },
      { avatar_image: { name: 'face.jpg', bytes: photo } },
    );
    const response = await fetch(`${server.base}/video/jobs`, {
      method: 'POST',
      headers,
      body: new Uint8Array(payload),
      signal: AbortSignal.timeout(10000),
    });
    assert.equal(response.status, 202, await response.clone().text());
    return ((await response.json()) as { job_id: string }).job_id;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const state = async (server: ServerProcess, id: string): Promise<any> =>
    (await fetch(`${server.base}/video/jobs/${id}`, { signal: AbortSignal.timeout(5000) })).json();
  const download = async (server: ServerProcess, url: string) => {
    const response = await fetch(`${server.base}${url}`, { signal: AbortSignal.timeout(10000) });
    assert.equal(response.status, 200);
    return Buffer.from(await response.arrayBuffer());
  };
  /** The servers that logged that they started rendering the job, in the order they started. */
  const renderers = (id: string) =>
    servers
      .map((server) => ({ server, at: server.output().indexOf(`"job":"${id}","msg":"rendering video job"`) }))
      .filter(({ at }) => at >= 0)
      .map(({ server }) => server);

  it('a job submitted on one server is reported and downloaded on another', async (t) => {
    const began = Date.now();
    const [a, b] = await Promise.all([start(), start()]);
    t.diagnostic(`started in ${Date.now() - began} ms`);
    const id = await submit(a, '안녕하세요.');
    const done = await eventually(
      () => state(b, id),
      (value) => value.status === 'succeeded' || value.status === 'failed',
      90000,
    );
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.deepEqual(await state(a, id), done);
    const mp4 = await download(b, done.video_url);
    assert.equal(mp4.length, done.bytes);
    assert.equal(mp4.subarray(4, 8).toString('latin1'), 'ftyp');
    assert.deepEqual(await download(a, done.video_url), mp4);
  });

  it('a job whose server is killed mid-render is finished by another', async () => {
    const [a, b] = servers;
    const text = Array.from({ length: 3 }, (_, i) => `${i + 1}번째 문장입니다.`).join(' ');
    const id = await submit(b, text);
    await eventually(
      async () => [await state(a, id), renderers(id)] as const,
      ([value, started]) => value.status === 'running' && value.progress !== null && started.length === 1,
      60000,
    );
    const [killed] = renderers(id);
    killed.kill(); // SIGKILL: no chance to put the job back
    killedServers.add(killed);
    const survivor = killed === a ? b : a;
    // Its lock lapses (1 s), the survivor's stall check puts the job back, and the survivor (the only
    // server left) takes it and finishes it.
    const done = await eventually(
      () => state(survivor, id),
      (value) => value.status === 'succeeded' || value.status === 'failed',
      90000,
    );
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal((await download(survivor, done.video_url)).length, done.bytes);
  });

  it('SIGTERM mid-render puts the job back for another server, and the process exits 0', async () => {
    const survivor = servers.find((server) => !killedServers.has(server))!;
    const id = await submit(survivor, '1번째 문장입니다. 2번째 문장입니다.');
    await eventually(
      async () => [await state(survivor, id), renderers(id)] as const,
      ([value, started]) => value.status === 'running' && started[0] === survivor,
      60000,
    );
    const exit = await survivor.terminate(30000);
    assert.equal(exit.code, 0, survivor.output().slice(-3000));
    assert.match(survivor.output(), new RegExp(`"job":"${id}".*put back in the queue`));
    // Another server (here: one in this process, with test engines) takes it from the queue.
    const other = await buildTestApp({
      lipsync: new FakeLipsyncEngine('audio'),
      environment: { ENABLE_VIDEO: 'true', REDIS_URL: redis.url },
    });
    try {
      const done = await eventually(
        async () => (await other.app.inject({ method: 'GET', url: `/video/jobs/${id}` })).json(),
        (value) => value.status === 'succeeded' || value.status === 'failed',
        30000,
      );
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
    } finally {
      await other.close();
    }
  });
});
