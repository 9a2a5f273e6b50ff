import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildTestApp, eventually, SEED_BODY, type TestApp } from '../helper.ts';
import { FakeLipsyncEngine } from '../support/fake-lipsync-engine.ts';
import { multipart } from '../support/multipart.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

const FORM = { text: SEED_BODY.text, ref_audio: SEED_BODY.ref_audio, ref_text: SEED_BODY.ref_text };
const PHOTO = { name: 'person.jpg', bytes: Buffer.from('an uploaded photo') };

/** The same folders each time, as a server restarted on the same machine has. */
describe('video jobs across restarts', () => {
  const folders = temporaryDirectory('durable-jobs-');
  const videos = path.join(folders, 'videos');
  let test: TestApp | undefined;
  let lipsync: FakeLipsyncEngine;
  const start = async (renderDelayMs: number) => {
    lipsync = new FakeLipsyncEngine('audio');
    lipsync.renderDelayMs = renderDelayMs;
    test = await buildTestApp({
      lipsync,
      environment: { ENABLE_VIDEO: 'true', VIDEO_OUTPUT_DIR: videos, CACHE_DIR: path.join(folders, 'cache') },
    });
    return test;
  };
  const state = async (id: string) => (await test!.app.inject({ url: `/video/jobs/${id}` })).json();
  after(async () => {
    await test?.close();
    rmSync(folders, { recursive: true, force: true });
  });

  it('keeps a finished job and its video across a restart', async () => {
    await start(0);
    const submitted = await test!.app.inject({
      method: 'POST',
      url: '/video/jobs',
      ...multipart(FORM, { avatar_image: PHOTO }),
    });
    const id: string = submitted.json().job_id;
    const done = await eventually(
      () => state(id),
      (job) => job.status === 'succeeded',
    );
    await test!.close();
    await start(0);
    const again = await state(id);
    assert.equal(again.status, 'succeeded');
    assert.equal(again.video_url, done.video_url);
    const video = await test!.app.inject({ url: done.video_url });
    assert.equal(video.statusCode, 200);
    assert.deepEqual(video.rawPayload, Buffer.from('fake mp4 bytes'));
    assert.deepEqual(
      readdirSync(path.join(videos, 'jobs')).filter((name) => name.startsWith(id)),
      [`${id}.json`],
      'a finished job keeps its state only, not its input',
    );
    await test!.close();
  });

  it('starts a job the restart interrupted again, with its uploaded photo', async () => {
    await start(60000);
    const submitted = await test!.app.inject({
      method: 'POST',
      url: '/video/jobs',
      ...multipart(FORM, { avatar_image: PHOTO }),
    });
    const id: string = submitted.json().job_id;
    await eventually(
      () => state(id),
      (job) => job.status === 'running',
    );
    await test!.close(); // mid-render
    await start(0);
    const done = await eventually(
      () => state(id),
      (job) => job.status === 'succeeded',
    );
    assert.match(done.video_url, /^\/video\/files\//);
    const avatar = lipsync.requests.at(-1)!.avatar;
    assert.equal(avatar.kind, 'image');
    assert.deepEqual(avatar.kind === 'image' && avatar.bytes, PHOTO.bytes);
    await test!.close();
  });

  it('keeps a job that ends right after it starts as ended on disk, without its input', async () => {
    await start(0);
    lipsync.failWith = new Error('the render broke');
    const submitted = await test!.app.inject({
      method: 'POST',
      url: '/video/jobs',
      ...multipart(FORM, { avatar_image: { ...PHOTO, bytes: Buffer.alloc(4 << 20, 7) } }),
    });
    const id: string = submitted.json().job_id;
    await eventually(
      () => state(id),
      (job) => job.status === 'failed',
    );
    // The final save removes the input, then replaces the state: wait for both, not only the first.
    const kept = await eventually(
      () => {
        const names = readdirSync(path.join(videos, 'jobs')).filter((name) => name.startsWith(id));
        const state = JSON.parse(readFileSync(path.join(videos, 'jobs', `${id}.json`), 'utf8'));
        return { names, status: state.state.status as string };
      },
      (found) => found.names.length === 1 && found.status !== 'running',
      5000,
    );
    assert.deepEqual(kept.names, [`${id}.json`]);
    assert.equal(kept.status, 'failed', 'not left as running, to be run again by the next start');
    await test!.close();
  });

  it('reports a job interrupted too often as failed, saying why, never drops it', async () => {
    const id = '0b6f7c1e-8d1a-4d59-9a43-2f1e4b7c9d10';
    const now = new Date().toISOString();
    writeFileSync(
      path.join(videos, 'jobs', `${id}.json`),
      JSON.stringify({
        state: { job_id: id, status: 'running', created_at: now, updated_at: now, progress: null },
        attempts: 2,
      }),
    );
    writeFileSync(path.join(videos, 'jobs', `${id}.json.partial`), '{"half a wr');
    await start(0);
    const failed = await state(id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.code, 'interrupted');
    assert.match(failed.error.detail, /server stopped while this job was running.*submit it again/);
    assert.ok(!readdirSync(path.join(videos, 'jobs')).some((name) => name.endsWith('.partial')));
    await test!.close();
    test = undefined;
  });
});
