import assert from 'node:assert/strict';
import { existsSync, readdirSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, parseSse, SEED_BODY, type TestApp } from '../helper.ts';
import { FakeLipsyncEngine } from '../support/fake-lipsync-engine.ts';
import { multipart } from '../support/multipart.ts';
import { StreamingLipsyncEngine } from '../support/streaming-lipsync-engine.ts';

const FORM = {
  text: SEED_BODY.text,
  ref_audio: SEED_BODY.ref_audio,
  ref_text: SEED_BODY.ref_text,
  avatar: 'interviewer.jpg',
};

/** Every poll gives up after this long, so a stream that never appears fails instead of hanging. */
const WAIT_MS = 15000;

describe('live video streams (/video/generate/sse `playable`, /video/streams)', () => {
  let test: TestApp;
  let streams: string;
  before(async () => {
    // 3 s of video, a frame every 20 ms: the first 1 s segment exists well before the end.
    test = await buildTestApp({
      lipsync: new StreamingLipsyncEngine({ seconds: 3, frameDelayMs: 20 }),
      environment: { ENABLE_VIDEO: 'true', VIDEO_OUTPUT_KEEP_S: '600' },
    });
    streams = path.join(test.config.VIDEO_OUTPUT_DIR, 'streams');
  });
  after(async () => test.close());

  const get = (url: string) => test.app.inject({ method: 'GET', url });

  it('sends `playable` with the playlist while the render goes on, then `done`; the stream is served', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate/sse',
      ...multipart(FORM),
    });
    const events = parseSse(response.body);
    const names = events.map(({ event }) => event);
    const playableAt = names.indexOf('playable');
    assert.ok(playableAt > 0, `a playable event: ${names.join(', ')}`);
    assert.equal(names.filter((name) => name === 'playable').length, 1);
    assert.ok(names.slice(playableAt).includes('progress'), 'rendering went on after it');
    assert.equal(names.at(-1), 'done');
    const { playlist_url: url, elapsed } = events[playableAt].data as {
      playlist_url: string;
      elapsed: number;
    };
    const done = events.at(-1)!.data as { elapsed: { total: number } };
    assert.ok(elapsed < done.elapsed.total, `playable at ${elapsed} s, done at ${done.elapsed.total} s`);
    assert.match(url, /^\/video\/streams\/[0-9a-f-]{36}\/index\.m3u8$/);

    const playlist = await get(url);
    assert.equal(playlist.statusCode, 200);
    assert.equal(playlist.headers['content-type'], 'application/vnd.apple.mpegurl');
    assert.equal(playlist.headers['cache-control'], 'no-cache');
    assert.match(playlist.body, /^#EXTM3U\n#EXT-X-START:TIME-OFFSET=0/);
    assert.match(playlist.body.trimEnd(), /#EXT-X-ENDLIST$/);
    const base = url.replace(/index\.m3u8$/, '');
    const init = await get(`${base}init.mp4`);
    assert.equal(init.statusCode, 200);
    assert.equal(init.headers['content-type'], 'video/mp4');
    assert.equal(init.rawPayload.subarray(4, 8).toString('latin1'), 'ftyp');
    const segments = playlist.body.split('\n').filter((line) => line.endsWith('.m4s'));
    assert.equal(segments.length, 3, playlist.body);
    const segment = await get(`${base}${segments[0]}`);
    assert.equal(segment.statusCode, 200);
    assert.equal(segment.headers['content-type'], 'video/iso.segment');
    assert.ok(segment.rawPayload.length > 100);
  });

  it('sets playlist_url on a running job', async () => {
    const submitted = await test.app.inject({ method: 'POST', url: '/video/jobs', ...multipart(FORM) });
    const id = (submitted.json() as { job_id: string }).job_id;
    const deadline = Date.now() + WAIT_MS;
    let state: { status: string; playlist_url?: string } = { status: 'queued' };
    while (!state.playlist_url && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = (await get(`/video/jobs/${id}`)).json();
    }
    assert.equal(state.status, 'running', 'the stream is playable while the job still runs');
    assert.match(state.playlist_url ?? '', /^\/video\/streams\/[0-9a-f-]{36}\/index\.m3u8$/);
    assert.equal((await get(state.playlist_url!)).statusCode, 200);
    while (state.status === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = (await get(`/video/jobs/${id}`)).json();
    }
    assert.equal(state.status, 'succeeded');
  });

  it('answers 404 for names it does not make, streams it never made, and expired ones', async () => {
    const [id] = readdirSync(streams);
    assert.ok(id, 'a stream from the tests before');
    assert.equal((await get(`/video/streams/${id}/index.m3u8`)).statusCode, 200);
    for (const url of [
      `/video/streams/${id}/..%2F..%2Fjobs`,
      `/video/streams/${id}/%2e%2e`,
      `/video/streams/${id}/index.m3u8.tmp`,
      `/video/streams/${id}/segment-1.m4s`,
      `/video/streams/${id}/segment-99999.m4s`,
      `/video/streams/not-a-stream/index.m3u8`,
      `/video/streams/..%2F${id}/index.m3u8`,
      `/video/streams/00000000-0000-4000-8000-000000000000/index.m3u8`,
    ]) {
      const response = await get(url);
      assert.equal(response.statusCode, 404, url);
    }
    const notFound = await get(`/video/streams/${id}/secret.txt`);
    assert.equal(notFound.json().code, 'stream_not_found');
    assert.match(notFound.json().detail, /VIDEO_OUTPUT_KEEP_S/);
    // Last written longer ago than VIDEO_OUTPUT_KEEP_S: expired (the periodic sweep removes it; see
    // test/core/video-streams.test.ts).
    const past = new Date(Date.now() - 601_000);
    utimesSync(path.join(streams, id), past, past);
    assert.equal((await get(`/video/streams/${id}/index.m3u8`)).statusCode, 404);
  });
});

describe('an engine that cannot stream (NewAvata, remote engines)', () => {
  it('sends no `playable` event and leaves no stream folder', async () => {
    const test = await buildTestApp({
      lipsync: new FakeLipsyncEngine('audio'),
      environment: { ENABLE_VIDEO: 'true' },
    });
    try {
      const response = await test.app.inject({
        method: 'POST',
        url: '/video/generate/sse',
        ...multipart({ ...FORM, avatar: 'teacher.png' }),
      });
      const names = parseSse(response.body).map(({ event }) => event);
      assert.equal(names.at(-1), 'done', response.body);
      assert.ok(!names.includes('playable'));
      const streams = path.join(test.config.VIDEO_OUTPUT_DIR, 'streams');
      assert.deepEqual(existsSync(streams) ? readdirSync(streams) : [], []);
    } finally {
      await test.close();
    }
  });
});
