import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import { NewAvataEngine } from '../../../src/engines/newavata/engine.ts';
import { buildTestApp, eventually, SEED_BODY, type TestApp } from '../../helper.ts';
import { FakeTtsEngine } from '../../support/fake-tts-engine.ts';
import { multipart } from '../../support/multipart.ts';
import {
  LIPSYNC_FIELDS,
  startFakeNewAvata,
  type FakeNewAvataServer,
} from '../../support/fake-newavata-server.ts';

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
const NO_FILES = {};

interface Pair {
  fake: FakeNewAvataServer;
  test: TestApp;
  /** Our server over real HTTP, where NewAvata calls back. */
  url: string;
  generate(
    fields?: Record<string, string>,
    files?: typeof PHOTO | typeof NO_FILES,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** Our server in NewAvata mode and a NewAvata that calls it back with its default settings. */
async function startPair(environment: Record<string, string> = {}, engine?: FakeTtsEngine): Promise<Pair> {
  const fake = await startFakeNewAvata();
  const test = await buildTestApp({
    engine,
    environment: {
      ENABLE_VIDEO: 'true',
      USE_NEWAVATA_API: 'true',
      NEWAVATA_API_URL: fake.url,
      ...environment,
    },
  });
  const url = await test.app.listen({ host: '127.0.0.1', port: 0 });
  fake.callback = { ttsUrl: url, referenceText: SEED_BODY.ref_text };
  return {
    fake,
    test,
    url,
    generate: (fields = FORM, files = PHOTO) =>
      test.app.inject({ method: 'POST', url: '/video/generate', ...multipart(fields, files) }),
    async close() {
      await test.close();
      await fake.close();
    },
  };
}

const header = (value: unknown) => decodeURIComponent(String(value ?? ''));

describe('NewAvata engine through /video/generate', () => {
  let pair: Pair;
  let fake: FakeNewAvataServer;
  before(async () => {
    pair = await startPair();
    fake = pair.fake;
  });
  after(() => pair.close());
  beforeEach(() => {
    fake.mode = 'ok';
    fake.callback = { ttsUrl: pair.url, referenceText: SEED_BODY.ref_text };
    fake.fallbackTts = true;
  });

  it("returns NewAvata's MP4 spoken by our TTS, which it reached with its default Windows ref_audio", async () => {
    const calls = fake.callbacks.length;
    const response = await pair.generate();
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['content-type'], 'video/mp4');
    assert.equal(response.rawPayload.toString('latin1', 4, 8), 'ftyp');
    const request = fake.requests.at(-1)!;
    assert.deepEqual(
      Object.keys(request).filter((key) => !LIPSYNC_FIELDS.has(key)),
      [],
      'only fields NewAvata reads',
    );
    assert.equal(request.text, FORM.text);
    assert.equal(request.avatar, 'auto');
    assert.equal(request.tts_engine, 'qwen3tts');
    assert.equal(request.tts_voice, 'clone_0.6b');
    assert.deepEqual(
      fake.callbacks.slice(calls).map((call) => [call.status, call.body.ref_audio]),
      [[200, 'c:/Qwen3-TTS/sample(1).mp3']],
    );
    assert.equal(fake.spokenBy.at(-1), 'qwen3tts');
    assert.equal(response.headers['x-voice-fallback'], undefined);
    assert.equal(response.headers['x-avatar-used'], 'auto');
    assert.match(header(response.headers['x-avatar-notice']), /avatar_image was not used/);
    assert.ok(Number(response.headers['x-tts-time']) > 0);
  });

  it('accepts long text that NewAvata speaks in several callbacks', async () => {
    const calls = fake.callbacks.length;
    const text = Array.from(
      { length: 8 },
      (_, i) => `${i + 1}번째 질문입니다. 천천히 자세하게 답변해 주세요.`,
    ).join(' ');
    const response = await pair.generate({ ...FORM, text });
    assert.equal(response.statusCode, 200, response.body);
    assert.ok(fake.callbacks.length - calls >= 2, 'more than one callback');
  });

  it('refuses a video NewAvata spoke with its fallback TTS, and says why our callback failed', async () => {
    // NewAvata sends a ref_audio this server does not have (its setting differs from NEWAVATA_REF_AUDIO).
    fake.callback = {
      ttsUrl: pair.url,
      referenceAudio: 'd:/voices/absent.wav',
      referenceText: SEED_BODY.ref_text,
    };
    const response = await pair.generate();
    assert.equal(response.statusCode, 502, response.body);
    assert.equal(fake.spokenBy.at(-1), 'cosyvoice', 'NewAvata did render with another voice');
    const body = response.json();
    assert.equal(body.code, 'voice_substituted');
    assert.match(body.detail, /does not speak with the cloned voice/);
    assert.match(body.detail, /404: ref_audio "d:\/voices\/absent\.wav" is a path on another machine/);
    assert.match(body.detail, /NEWAVATA_ALLOW_FALLBACK_VOICE/);
  });

  it('refuses a video NewAvata made without calling this server back', async () => {
    fake.callback = undefined;
    const response = await pair.generate();
    assert.equal(response.statusCode, 502, response.body);
    assert.match(response.json().detail, /NewAvata did not call this server back.*QWEN3_TTS_API_URL/);
  });

  it("reports our callback's error when NewAvata's fallback fails too, not only its own words", async () => {
    fake.callback = {
      ttsUrl: pair.url,
      referenceAudio: 'd:/voices/absent.wav',
      referenceText: SEED_BODY.ref_text,
    };
    fake.fallbackTts = false;
    const response = await pair.generate();
    assert.equal(response.statusCode, 422, response.body);
    const body = response.json();
    assert.equal(body.code, 'voice_callback_failed');
    assert.match(body.detail, /TTS 생성 실패/);
    assert.match(body.detail, /absent\.wav/);
  });

  it('checks the model NewAvata will ask for before sending the job', async () => {
    const other = await startPair({}, new FakeTtsEngine({ installed: ['base_0.6b'] }));
    try {
      const startedAt = performance.now();
      const response = await other.generate({ ...FORM, model_size: '1.7b' });
      assert.equal(response.statusCode, 503, response.body);
      assert.match(response.json().detail, /base_1\.7b is not installed/);
      assert.equal(other.fake.requests.length, 0, 'NewAvata never got the job');
      assert.ok(performance.now() - startedAt < 2000);
    } finally {
      await other.close();
    }
  });

  it('checks the reference NewAvata will send before sending the job', async () => {
    const other = await startPair({ NEWAVATA_REF_AUDIO: 'c:/Qwen3-TTS/missing.mp3' });
    try {
      const response = await other.generate();
      assert.equal(response.statusCode, 503, response.body);
      const body = response.json();
      assert.equal(body.code, 'callback_reference_missing');
      assert.match(body.detail, /QWEN3_TTS_REF_AUDIO, NEWAVATA_REF_AUDIO here/);
      assert.match(body.detail, /"missing\.mp3" was looked up in REF_AUDIO_DIR/);
      assert.equal(other.fake.requests.length, 0);
    } finally {
      await other.close();
    }
  });

  it('uses a named avatar over an uploaded photo, and says so', async () => {
    const response = await pair.generate({ ...FORM, avatar: 'new_talk_long', model_size: '1.7b' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(fake.requests.at(-1)!.avatar, 'new_talk_long');
    assert.equal(fake.requests.at(-1)!.tts_voice, 'clone_1.7b');
    assert.equal(response.headers['x-avatar-used'], 'new_talk_long');
    const notice = header(response.headers['x-avatar-notice']);
    assert.match(notice, /the avatar you named \(new_talk_long\) was used/);
    assert.doesNotMatch(notice, /name one in the avatar field/);
  });

  it('refuses an uploaded avatar video with a 422 that says why, on every video route, before sending a job', async () => {
    const requests = fake.requests.length;
    const video = { avatar_video: { name: 'me.mp4', bytes: Buffer.from('a video NewAvata cannot receive') } };
    for (const url of ['/video/generate', '/video/generate/sse', '/video/jobs']) {
      const response = await pair.test.app.inject({ method: 'POST', url, ...multipart(FORM, video) });
      assert.equal(response.statusCode, 422, `${url}: ${response.body}`);
      assert.equal(response.json().code, 'video_avatar_not_supported');
      assert.match(
        response.json().detail,
        /avatar_video cannot be used with NewAvata.*no API to receive a video/,
      );
    }
    // With a name too, still refused: the video would silently not be used.
    const named = await pair.test.app.inject({
      method: 'POST',
      url: '/video/generate',
      ...multipart({ ...FORM, avatar: 'new_talk_long' }, video),
    });
    assert.equal(named.statusCode, 422, named.body);
    assert.equal(fake.requests.length, requests);
  });

  it('refuses a language NewAvata would read as Korean, before sending the job', async () => {
    const requests = fake.requests.length;
    const response = await pair.generate({ ...FORM, language: 'English', text: 'Tell me about yourself.' });
    assert.equal(response.statusCode, 422, response.body);
    assert.equal(response.json().code, 'language_not_supported');
    assert.match(response.json().detail, /always asks this server for Korean speech/);
    assert.equal(fake.requests.length, requests);
    assert.equal((await pair.generate({ ...FORM, language: 'Auto' })).statusCode, 200);
  });

  it('reports seed and x_vector_only_mode as ignored and sends no X-Seed', async () => {
    const response = await pair.generate({ ...FORM, seed: '7', x_vector_only_mode: 'true' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['x-ignored'], 'seed, x_vector_only_mode');
    assert.equal(response.headers['x-seed'], undefined);
    assert.equal((await pair.generate()).headers['x-ignored'], undefined);
  });

  it('answers an unknown avatar with a 404 that lists the valid ones, before sending the job', async () => {
    const requests = fake.requests.length;
    const response = await pair.generate({ ...FORM, avatar: 'nobody' }, NO_FILES);
    assert.equal(response.statusCode, 404, response.body);
    assert.equal(response.json().code, 'avatar_not_found');
    assert.match(response.json().detail, /"nobody".*use one of new_talk_long, new_talk_short or "auto"/);
    assert.equal(fake.requests.length, requests);
  });

  it("answers NewAvata's own 404 for an avatar it no longer has as a 404, not an engine failure", async () => {
    assert.equal((await pair.generate({ ...FORM, avatar: 'new_talk_short' }, NO_FILES)).statusCode, 200);
    fake.avatars = ['new_talk_long'];
    try {
      // The list checked a moment ago still has it; NewAvata itself refuses.
      const response = await pair.generate({ ...FORM, avatar: 'new_talk_short' }, NO_FILES);
      assert.equal(response.statusCode, 404, response.body);
      assert.match(response.json().detail, /Avatar not found: new_talk_short/);
    } finally {
      fake.avatars = ['new_talk_short', 'new_talk_long'];
    }
  });

  it("lists NewAvata's avatars", async () => {
    const response = await pair.test.app.inject({ method: 'GET', url: '/video/avatars' });
    assert.deepEqual(response.json(), { avatars: ['new_talk_long', 'new_talk_short'] });
  });

  it('falls back to the blocking endpoint when the stream route is missing (an HTML 404)', async () => {
    fake.mode = 'no-stream-endpoint';
    const response = await pair.generate();
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(fake.spokenBy.at(-1), 'qwen3tts');
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
      const response = await pair.generate();
      assert.equal(response.statusCode, failure.status, response.body.slice(0, 300));
      assert.match(response.json().detail, failure.detail);
      fake.mode = 'ok';
      assert.equal((await pair.generate()).statusCode, 200);
    });
  }
});

describe('NewAvata mode with fallback voices allowed', () => {
  let pair: Pair;
  before(async () => {
    pair = await startPair({ NEWAVATA_ALLOW_FALLBACK_VOICE: 'true' });
    pair.fake.callback = {
      ttsUrl: pair.url,
      referenceAudio: 'd:/voices/absent.wav',
      referenceText: SEED_BODY.ref_text,
    };
  });
  after(() => pair.close());

  it('answers the video and says in X-Voice-Fallback that it is not the cloned voice', async () => {
    const response = await pair.generate();
    assert.equal(response.statusCode, 200, response.body);
    assert.match(header(response.headers['x-voice-fallback']), /failed \(404: .*absent\.wav/);
  });

  it('says it in the SSE done event and in the job result too', async () => {
    const sse = await pair.test.app.inject({
      method: 'POST',
      url: '/video/generate/sse',
      ...multipart(FORM, PHOTO),
    });
    const done = sse.body.split('\n\n').find((event) => event.startsWith('event: done'));
    assert.ok(done, sse.body);
    assert.match(JSON.parse(done.split('data: ')[1]).voice_fallback, /fallback TTS/);
    const submitted = await pair.test.app.inject({
      method: 'POST',
      url: '/video/jobs',
      ...multipart(FORM, PHOTO),
    });
    assert.equal(submitted.statusCode, 202, submitted.body);
    const state = await eventually(
      async () =>
        (await pair.test.app.inject({ method: 'GET', url: `/video/jobs/${submitted.json().job_id}` })).json(),
      (job) => job.status !== 'queued' && job.status !== 'running',
    );
    assert.equal(state.status, 'succeeded', JSON.stringify(state));
    assert.match(state.voice_fallback, /fallback TTS/);
  });
});

describe('NewAvata renders and our queue', () => {
  it('keeps the slot of a render whose client left until NewAvata has finished it', async () => {
    const pair = await startPair();
    try {
      pair.fake.lipsyncMs = 1500;
      const leaving = new AbortController();
      const { payload, headers } = multipart(FORM, PHOTO);
      const request = fetch(`${pair.url}/video/generate`, {
        method: 'POST',
        body: payload,
        headers,
        signal: leaving.signal,
      }).catch(() => undefined);
      await eventually(
        () => pair.fake.active,
        (active) => active === 1,
      );
      leaving.abort();
      await request;
      const queue = async () =>
        (await pair.test.app.inject({ method: 'GET', url: '/health' })).json().video.queue.active;
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(pair.fake.active, 1, 'NewAvata is still rendering');
      assert.equal(await queue(), 1, 'and the slot is still taken');
      await eventually(
        () => pair.fake.finished,
        (finished) => finished === 1,
        10000,
      );
      await eventually(queue, (active) => active === 0, 5000);
    } finally {
      await pair.close();
    }
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
