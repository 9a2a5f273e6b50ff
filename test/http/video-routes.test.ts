import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, SEED_BODY, type TestApp } from '../helper.ts';
import { FakeLipsyncEngine } from '../support/fake-lipsync-engine.ts';

/** A multipart/form-data body as curl -F sends it. */
export function multipart(
  fields: Record<string, string>,
  files: Record<string, { name: string; bytes: Buffer }> = {},
) {
  const boundary = '----test-boundary-7d3f';
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  for (const [name, file] of Object.entries(files)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(parts),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

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

  it('rejects a JSON body with a 415 that says to send a form', async () => {
    const response = await test.app.inject({ method: 'POST', url: '/video/generate', payload: SEED_FORM });
    assert.equal(response.statusCode, 415);
    assert.match(response.body, /multipart\/form-data/);
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
