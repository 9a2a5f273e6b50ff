import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, parseSse, SEED_BODY, type TestApp } from '../helper.ts';
import { FakeLipsyncEngine } from '../support/fake-lipsync-engine.ts';
import type { FakeTtsEngine } from '../support/fake-tts-engine.ts';
import { multipart } from '../support/multipart.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

const FORM = {
  text: '안녕하세요. 자기소개를 부탁드립니다.',
  language: 'Korean',
  ref_audio: SEED_BODY.ref_audio,
  ref_text: SEED_BODY.ref_text,
  model_size: '0.6b',
  seed: '42',
};
const PHOTO = { name: 'interviewer.jpg', bytes: Buffer.from('the interviewer photo') };
const OTHER_PHOTO = { name: 'interviewer.jpg', bytes: Buffer.from('another photo') };

describe('render cache', () => {
  const cacheDirectory = temporaryDirectory('render-cache-');
  let test: TestApp;
  let lipsync: FakeLipsyncEngine;
  const start = async () => {
    lipsync = new FakeLipsyncEngine('audio');
    lipsync.weights = 'musetalk weights 1';
    test = await buildTestApp({ lipsync, environment: { ENABLE_VIDEO: 'true', CACHE_DIR: cacheDirectory } });
  };
  const render = (form: Record<string, string>, photo = PHOTO) =>
    test.app.inject({ method: 'POST', url: '/video/generate', ...multipart(form, { avatar_image: photo }) });
  /** Renders, and says whether the lip-sync engine worked (false: answered from the cache). */
  const computed = async (form: Record<string, string>, photo = PHOTO) => {
    const [renders, speeches] = [lipsync.requests.length, (test.engine as FakeTtsEngine).requests.length];
    const response = await render(form, photo);
    assert.equal(response.statusCode, 200, response.body);
    const worked = lipsync.requests.length > renders;
    if (!worked) assert.equal((test.engine as FakeTtsEngine).requests.length, speeches, 'no speech either');
    assert.equal(response.headers['x-cache'], worked ? undefined : 'hit');
    return worked;
  };

  before(start);
  after(async () => {
    await test.close();
    rmSync(cacheDirectory, { recursive: true, force: true });
  });

  it('answers a repeated request from the stored render, without computing, with X-Cache: hit', async () => {
    assert.equal(await computed(FORM), true);
    const first = await render(FORM);
    assert.equal(first.headers['x-cache'], 'hit');
    assert.equal(first.headers['x-seed'], '42');
    assert.deepEqual(first.rawPayload, Buffer.from('fake mp4 bytes'));
    // The same text once normalized (spacing) is the same request.
    assert.equal(await computed({ ...FORM, text: `  ${FORM.text.replace(' ', '   ')}  ` }), false);
  });

  it('renders again when anything that changes the pixels differs', async () => {
    assert.equal(await computed({ ...FORM, seed: '43' }), true, 'another seed');
    assert.equal(await computed({ ...FORM, text: '다른 질문입니다.' }), true, 'another text');
    // The form clones from the recording alone unless x_vector_only_mode=false: then the transcript counts.
    assert.equal(await computed({ ...FORM, ref_text: '다른 대본입니다.' }), false, 'x-vector only');
    assert.equal(await computed({ ...FORM, x_vector_only_mode: 'false' }), true, 'with the transcript');
    assert.equal(
      await computed({ ...FORM, x_vector_only_mode: 'false', ref_text: '다른 대본입니다.' }),
      true,
      'another transcript',
    );
    assert.equal(await computed(FORM, OTHER_PHOTO), true, 'another avatar');
    assert.equal(await computed({ ...FORM, model_size: '1.7b' }), true, 'another model');
  });

  it('never serves a render made with other weights', async () => {
    (test.engine as FakeTtsEngine).weights = 'fake weights 2';
    assert.equal(await computed(FORM), true, 'replaced speech model');
    lipsync.weights = 'musetalk weights 2';
    assert.equal(await computed(FORM), true, 'replaced lip-sync model');
    assert.equal(await computed(FORM), false);
    (test.engine as FakeTtsEngine).weights = 'fake weights 1';
    lipsync.weights = 'musetalk weights 1';
  });

  it('keeps nothing for a request without a seed (its speech is new each time)', async () => {
    const { seed: _seed, ...unseeded } = FORM;
    assert.equal(await computed(unseeded), true);
    assert.equal(await computed(unseeded), true);
  });

  it('keeps nothing for an engine that cannot name its weights (a remote one)', async () => {
    lipsync.weights = undefined;
    try {
      assert.equal(await computed({ ...FORM, seed: '7' }), true);
      assert.equal(await computed({ ...FORM, seed: '7' }), true);
    } finally {
      lipsync.weights = 'musetalk weights 1';
    }
  });

  it('says so in the SSE done event', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate/sse',
      ...multipart(FORM, { avatar_image: PHOTO }),
    });
    const done = parseSse(response.body).find((event) => event.event === 'done');
    assert.equal((done?.data as { from_cache?: boolean }).from_cache, true, response.body);
  });

  it('survives a restart, and a damaged entry is rendered again', async () => {
    await test.close();
    await start();
    assert.equal(await computed(FORM), false, 'served after the restart');
    const renders = path.join(cacheDirectory, 'renders');
    for (const name of readdirSync(renders)) writeFileSync(path.join(renders, name), 'damaged');
    assert.equal(await computed(FORM), true);
    assert.equal(await computed(FORM), false);
  });

  it('is off with VIDEO_CACHE_MB=0', async () => {
    await test.close();
    lipsync = new FakeLipsyncEngine('audio');
    lipsync.weights = 'musetalk weights 1';
    test = await buildTestApp({
      lipsync,
      environment: { ENABLE_VIDEO: 'true', CACHE_DIR: cacheDirectory, VIDEO_CACHE_MB: '0' },
    });
    assert.equal(await computed(FORM), true);
    assert.equal(await computed(FORM), true);
  });
});
