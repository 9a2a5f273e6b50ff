import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import { NewAvataEngine } from '../../../src/engines/newavata/engine.ts';
import { buildTestApp, SEED_BODY, SEED_REFERENCE_NAME, type TestApp } from '../../helper.ts';
import { multipart } from '../../support/multipart.ts';
import { startFakeNewAvata, type FakeNewAvataServer } from '../../support/fake-newavata-server.ts';

const FORM = {
  text: SEED_BODY.text,
  language: 'Korean',
  ref_audio: SEED_BODY.ref_audio,
  ref_text: SEED_BODY.ref_text,
  model_size: '0.6b',
};
const PHOTO = {
  avatar_image: { name: 'interviewer.jpg', bytes: Buffer.from('a photo NewAvata cannot use') },
};

describe('NewAvata engine through /video/generate', () => {
  let fake: FakeNewAvataServer;
  let test: TestApp;
  let audioServer: http.Server;
  before(async () => {
    fake = await startFakeNewAvata();
    test = await buildTestApp({
      environment: {
        ENABLE_VIDEO: 'true',
        USE_NEWAVATA_API: 'true',
        NEWAVATA_API_URL: fake.url,
        REF_AUDIO_ALLOW_PRIVATE_URLS: 'true',
      },
      lipsync: undefined,
    });
    // NewAvata calls this server back for speech, with a reference-audio URL it can serve.
    const ttsUrl = await test.app.listen({ host: '127.0.0.1', port: 0 });
    const reference = readFileSync(path.join(test.referenceDirectory, SEED_REFERENCE_NAME));
    audioServer = http.createServer((_request, response) => response.end(reference));
    await new Promise<void>((resolve) => audioServer.listen(0, '127.0.0.1', resolve));
    fake.callback = {
      ttsUrl,
      referenceUrl: `http://127.0.0.1:${(audioServer.address() as AddressInfo).port}/voice.mp3`,
      referenceText: SEED_BODY.ref_text,
    };
  });
  after(async () => {
    audioServer.close();
    await test.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.mode = 'ok';
  });

  const generate = (fields: Record<string, string> = FORM, files = PHOTO) =>
    test.app.inject({ method: 'POST', url: '/video/generate', ...multipart(fields, files) });

  it("returns NewAvata's MP4 for the seed's request, with speech from our own TTS callback", async () => {
    const response = await generate();
    assert.equal(response.statusCode, 200, response.statusCode === 200 ? '' : response.body);
    assert.equal(response.headers['content-type'], 'video/mp4');
    assert.equal(response.rawPayload.toString('latin1', 4, 8), 'ftyp');
    const request = fake.requests.at(-1)!;
    assert.equal(request.text, FORM.text);
    assert.equal(request.avatar, 'auto');
    assert.equal(request.tts_engine, 'qwen3tts');
    assert.equal(request.tts_voice, 'clone_0.6b');
    assert.deepEqual(
      fake.callbackStatuses.slice(-1),
      [200],
      'NewAvata called /tts/voice_clone back successfully',
    );
    assert.equal(response.headers['x-avatar-used'], 'auto');
    assert.match(
      decodeURIComponent(String(response.headers['x-avatar-notice'])),
      /avatar_image was not used/,
    );
    assert.ok(Number(response.headers['x-tts-time']) > 0);
  });

  it('uses an avatar named in the form', async () => {
    const response = await generate(
      { ...FORM, avatar: 'new_talk_long', model_size: '1.7b' },
      {} as typeof PHOTO,
    );
    assert.equal(response.statusCode, 200, response.statusCode === 200 ? '' : response.body);
    assert.equal(fake.requests.at(-1)!.avatar, 'new_talk_long');
    assert.equal(fake.requests.at(-1)!.tts_voice, 'clone_1.7b');
  });

  it("lists NewAvata's avatars", async () => {
    const response = await test.app.inject({ method: 'GET', url: '/video/avatars' });
    assert.deepEqual(response.json(), { avatars: ['new_talk_long', 'new_talk_short'] });
  });

  it('falls back to the blocking endpoint when the stream endpoint is missing', async () => {
    fake.mode = 'no-stream-endpoint';
    const response = await generate();
    assert.equal(response.statusCode, 200, response.statusCode === 200 ? '' : response.body);
  });

  const failures: { mode: FakeNewAvataServer['mode']; status: number; detail: RegExp }[] = [
    { mode: 'error-event', status: 502, detail: /GPU out of memory/ },
    { mode: 'die-mid-stream', status: 502, detail: /without a video|stopped in the middle/ },
    { mode: 'garbage', status: 502, detail: /not JSON/ },
    { mode: 'busy', status: 503, detail: /NewAvata/ },
    { mode: 'not-mp4', status: 502, detail: /not an MP4/ },
  ];
  for (const failure of failures) {
    it(`turns "${failure.mode}" into a ${failure.status} and keeps serving`, async () => {
      fake.mode = failure.mode;
      const response = await generate();
      assert.equal(response.statusCode, failure.status, response.body.slice(0, 300));
      assert.match(response.json().detail, failure.detail);
      fake.mode = 'ok';
      assert.equal((await generate()).statusCode, 200);
    });
  }

  it('an unknown avatar name is NewAvata 404, shown to the client', async () => {
    const response = await generate({ ...FORM, avatar: 'nobody' }, {} as typeof PHOTO);
    assert.ok(response.statusCode >= 400 && response.statusCode < 600);
    assert.match(response.json().detail, /nobody not found/);
  });
});

describe('NewAvata engine that is down', () => {
  it('starts, reports it, and answers /video/generate with a 503', async () => {
    const test = await buildTestApp({
      environment: { ENABLE_VIDEO: 'true', USE_NEWAVATA_API: 'true', NEWAVATA_API_URL: 'http://127.0.0.1:9' },
    });
    try {
      const response = await test.app.inject({
        method: 'POST',
        url: '/video/generate',
        ...multipart(FORM, PHOTO),
      });
      assert.equal(response.statusCode, 503, response.body);
      assert.match(response.json().detail, /NewAvata at http:\/\/127\.0\.0\.1:9 is not reachable/);
      assert.equal((await test.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    } finally {
      await test.close();
    }
  });

  it('health says what is wrong', async () => {
    const engine = await NewAvataEngine.connect(loadConfig({ NEWAVATA_API_URL: 'http://127.0.0.1:9' }));
    const health = await engine.health();
    assert.equal(health.ok, false);
    assert.match(health.message!, /not reachable/);
  });
});
