import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidInputError } from '../../src/errors.ts';
import { buildTestApp, parseSse, SEED_BODY, type TestApp } from '../helper.ts';
import { FakeLipsyncEngine } from '../support/fake-lipsync-engine.ts';
import { multipart } from '../support/multipart.ts';

const SEED_FORM = {
  text: SEED_BODY.text,
  language: 'Korean',
  ref_audio: SEED_BODY.ref_audio,
  ref_text: SEED_BODY.ref_text,
  model_size: '0.6b',
};
const PHOTO = { name: 'interviewer.jpg', bytes: Buffer.from('not checked by the fake engine') };

describe('video routes', () => {
  let test: TestApp;
  let lipsync: FakeLipsyncEngine;
  before(async () => {
    lipsync = new FakeLipsyncEngine('audio');
    test = await buildTestApp({
      lipsync,
      environment: { ENABLE_VIDEO: 'true', VIDEO_MAX_UPLOAD_BYTES: '2048' },
    });
  });
  after(async () => test.close());

  it('reports the lip-sync engine in /health, degraded when it is down', async () => {
    const healthy = (await test.app.inject({ method: 'GET', url: '/health' })).json();
    assert.equal(healthy.status, 'ok');
    assert.deepEqual(
      { ...healthy.video, queue: undefined },
      { name: 'fake-lipsync', ok: true, queue: undefined },
    );
    assert.equal(healthy.video.queue.active, 0);
    lipsync.healthReport = { ok: false, message: 'NewAvata at http://avatars:8001 is not answering' };
    try {
      const down = await test.app.inject({ method: 'GET', url: '/health' });
      assert.equal(down.statusCode, 200, 'liveness stays up');
      assert.equal(down.json().status, 'degraded');
      assert.match(down.json().video.message, /not answering/);
    } finally {
      lipsync.healthReport = { ok: true };
    }
  });

  it('lists avatars in the seed shape', async () => {
    const response = await test.app.inject({ method: 'GET', url: '/video/avatars' });
    assert.deepEqual(response.json(), { avatars: ['interviewer.jpg', 'teacher.png'] });
  });

  it("answers the seed guide's curl example with an MP4 and its headers", async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate',
      ...multipart(SEED_FORM, { avatar_image: PHOTO }),
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['content-type'], 'video/mp4');
    assert.equal(response.headers['content-disposition'], 'attachment; filename=output.mp4');
    assert.match(String(response.headers['x-generation-time']), /^\d+\.\d{3}$/);
    assert.match(String(response.headers['x-tts-time']), /^\d+\.\d{3}$/);
    assert.equal(response.body, 'fake mp4 bytes');
    const request = lipsync.requests.at(-1)!;
    assert.equal(request.avatar.kind, 'image');
    assert.ok(request.speech && request.speech.samples.length > 0, 'the cloned speech was passed on');
    assert.equal(request.speech.sampleRate, 24000);
  });

  it('accepts an avatar named from VIDEO_AVATAR_DIR instead of an upload', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate',
      ...multipart({ ...SEED_FORM, avatar: 'teacher.png' }),
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['x-avatar-used'], 'teacher.png');
  });

  const invalid: [string, Record<string, string>, boolean, number, RegExp][] = [
    ['text missing', { ...SEED_FORM, text: '' }, true, 422, /text is empty/],
    ['no avatar', SEED_FORM, false, 422, /avatar_image/],
    [
      'an unknown model_size',
      { ...SEED_FORM, model_size: '7b' },
      true,
      422,
      /model_size must be 0\.6b or 1\.7b/,
    ],
    ['a bad language', { ...SEED_FORM, language: 'Elvish' }, true, 422, /language must be one of/],
    ['a seed that is not a number', { ...SEED_FORM, seed: 'abc' }, true, 422, /seed must be a whole number/],
    [
      'a split_sentences that is not a boolean',
      { ...SEED_FORM, split_sentences: 'maybe' },
      true,
      422,
      /split_sentences must be true, false or null/,
    ],
    [
      'a lexicon of more than 500 entries',
      {
        ...SEED_FORM,
        pronunciations: JSON.stringify(
          Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`w${i}`, 'x'])),
        ),
      },
      true,
      422,
      /at most 500 entries/,
    ],
    [
      'a reference outside REF_AUDIO_DIR',
      { ...SEED_FORM, ref_audio: '../x.wav' },
      true,
      400,
      /outside REF_AUDIO_DIR/,
    ],
  ];
  for (const [name, fields, withPhoto, status, message] of invalid) {
    it(`rejects ${name} with a ${status}`, async () => {
      const response = await test.app.inject({
        method: 'POST',
        url: '/video/generate',
        ...multipart(fields, withPhoto ? { avatar_image: PHOTO } : {}),
      });
      assert.equal(response.statusCode, status, response.body);
      assert.match(response.body, message);
    });
  }

  it('rejects an upload over VIDEO_MAX_UPLOAD_BYTES with a 413', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate',
      ...multipart(SEED_FORM, { avatar_image: { name: 'big.jpg', bytes: Buffer.alloc(4096) } }),
    });
    assert.equal(response.statusCode, 413, response.body);
  });

  it('rejects more files than the form has with a 413 that names the files it takes', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate',
      ...multipart(SEED_FORM, { avatar_image: PHOTO, ref_audio: PHOTO, extra: PHOTO }),
    });
    assert.equal(response.statusCode, 413, response.body);
    assert.match(
      response.json().detail,
      /too many files: send avatar_image or avatar_video and, optionally, ref_audio/,
    );
  });

  it('rejects a malformed multipart body with a 400, not a 500', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate',
      payload: 'text=hello',
      headers: { 'content-type': 'multipart/form-data' },
    });
    assert.equal(response.statusCode, 400, response.body);
    assert.match(response.json().detail, /multipart form could not be read/);
  });

  it('rejects a JSON body with a 415 that says to send a form', async () => {
    const response = await test.app.inject({ method: 'POST', url: '/video/generate', payload: SEED_FORM });
    assert.equal(response.statusCode, 415);
    assert.match(response.body, /multipart\/form-data/);
  });
});

describe('video progress over SSE', () => {
  let test: TestApp;
  let lipsync: FakeLipsyncEngine;
  before(async () => {
    lipsync = new FakeLipsyncEngine('audio');
    test = await buildTestApp({ lipsync, environment: { ENABLE_VIDEO: 'true' } });
  });
  after(async () => test.close());

  it('reports each stage, then where to download the video', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate/sse',
      ...multipart({ ...SEED_FORM, seed: '11' }, { avatar_image: PHOTO }),
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    assert.equal(response.headers['x-seed'], '11');
    const events = parseSse(response.body);
    assert.deepEqual(
      events.map(({ event }) => event),
      ['meta', 'progress', 'progress', 'progress', 'done'],
    );
    assert.deepEqual(
      events
        .filter(({ event }) => event === 'progress')
        .map(({ data }) => {
          const { stage, fraction } = data as { stage: string; fraction: number };
          return [stage, fraction];
        }),
      [
        ['tts', 0],
        ['tts', 1],
        ['lipsync', 0.5],
      ],
    );
    const done = events.at(-1)!.data as { video_url: string; expires_in: number; bytes: number };
    assert.match(done.video_url, /^\/video\/files\/[0-9a-f-]{36}\.mp4$/);
    assert.equal(done.expires_in, 3600);
    assert.equal(done.bytes, 'fake mp4 bytes'.length);

    const download = await test.app.inject({ method: 'GET', url: done.video_url });
    assert.equal(download.statusCode, 200);
    assert.equal(download.headers['content-type'], 'video/mp4');
    assert.equal(download.body, 'fake mp4 bytes');
    const range = await test.app.inject({
      method: 'GET',
      url: done.video_url,
      headers: { range: 'bytes=5-7' },
    });
    assert.equal(range.statusCode, 206, 'players can seek');
    assert.equal(range.body, 'mp4');
  });

  for (const name of ['0123.mp4', '..%2F..%2Fetc%2Fpasswd', '00000000-0000-0000-0000-000000000000.mp4']) {
    it(`answers 404 for a video it does not have (${name})`, async () => {
      const response = await test.app.inject({ method: 'GET', url: `/video/files/${name}` });
      assert.equal(response.statusCode, 404);
      assert.match(response.body, /no such video/);
    });
  }

  it('rejects bad input with a plain 4xx before the stream starts', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate/sse',
      ...multipart({ ...SEED_FORM, model_size: '7b' }, { avatar_image: PHOTO }),
    });
    assert.equal(response.statusCode, 422);
    assert.match(response.body, /model_size must be 0\.6b or 1\.7b/);
  });

  it('ends with an error event that names the problem when rendering fails', async () => {
    lipsync.failWith = new InvalidInputError('no face was found in avatar_image', { statusCode: 422 });
    try {
      const response = await test.app.inject({
        method: 'POST',
        url: '/video/generate/sse',
        ...multipart(SEED_FORM, { avatar_image: PHOTO }),
      });
      const events = parseSse(response.body);
      assert.equal(events.at(-1)!.event, 'error');
      assert.deepEqual(events.at(-1)!.data, {
        detail: 'no face was found in avatar_image',
        code: 'invalid_input',
        status_code: 422,
      });
    } finally {
      lipsync.failWith = undefined;
    }
  });

  it('counts renders by outcome in /metrics', async () => {
    const metrics = (await test.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /video_render_seconds_count\{engine="fake-lipsync",outcome="ok"\} [1-9]/);
    assert.match(metrics, /video_render_seconds_count\{engine="fake-lipsync",outcome="rejected"\} 1/);
    assert.match(metrics, /queue_wait_seconds_count\{queue="video"\} [1-9]/);
  });
});

describe('video routes with a text-driven engine (NewAvata)', () => {
  it('says in a header that the upload and the reference were not used', async () => {
    const lipsync = new FakeLipsyncEngine('text');
    const test = await buildTestApp({ lipsync, environment: { ENABLE_VIDEO: 'true' } });
    try {
      const response = await test.app.inject({
        method: 'POST',
        url: '/video/generate',
        ...multipart(SEED_FORM, { avatar_image: PHOTO }),
      });
      assert.equal(response.statusCode, 200, response.body);
      const notice = decodeURIComponent(String(response.headers['x-avatar-notice']));
      assert.match(notice, /avatar_image was not used/);
      assert.match(notice, /ref_audio was not used/);
      assert.equal(lipsync.requests[0].speech, undefined);
    } finally {
      await test.close();
    }
  });
});

describe('video routes when ENABLE_VIDEO=false', () => {
  it('are not registered', async () => {
    const test = await buildTestApp();
    try {
      assert.equal((await test.app.inject({ method: 'GET', url: '/video/avatars' })).statusCode, 404);
    } finally {
      await test.close();
    }
  });
});

describe('video pronunciations', () => {
  it('accepts a per-request lexicon as a JSON form field, and rejects one that is not JSON', async () => {
    const { FakeTtsEngine } = await import('../support/fake-tts-engine.ts');
    const engine = new FakeTtsEngine();
    const test = await buildTestApp({
      engine,
      lipsync: new FakeLipsyncEngine('audio'),
      environment: { ENABLE_VIDEO: 'true' },
    });
    try {
      const fields = {
        ...SEED_FORM,
        text: 'Qwen 면접입니다.',
        avatar: 'teacher.png',
        pronunciations: '{"Qwen": "큐웬"}',
      };
      const ok = await test.app.inject({ method: 'POST', url: '/video/generate', ...multipart(fields) });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.match(engine.requests[0].text, /큐웬/);
      const bad = await test.app.inject({
        method: 'POST',
        url: '/video/generate',
        ...multipart({ ...fields, pronunciations: '{Qwen' }),
      });
      assert.equal(bad.statusCode, 422);
      assert.match(bad.body, /pronunciations must be a JSON object/);
    } finally {
      await test.close();
    }
  });
});
