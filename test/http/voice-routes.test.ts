import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeWav } from '../../src/audio/wav.ts';
import { buildTestApp, writeReferenceAudio, type TestApp } from '../helper.ts';
import { FakeTtsEngine } from '../support/fake-tts-engine.ts';
import { multipart } from '../support/multipart.ts';

/** A WAV of a tone, `seconds` long at 24 kHz. */
function toneWav(seconds: number, amplitude = 0.3): Buffer {
  const samples = new Float32Array(Math.round(seconds * 24000));
  for (let index = 0; index < samples.length; index += 1)
    samples[index] = amplitude * Math.sin((2 * Math.PI * 200 * index) / 24000);
  return encodeWav(samples, 24000);
}

const TRANSCRIPT = '안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다.';

describe('POST /v1/audio/voices (saving a named voice)', () => {
  let test: TestApp;
  let engine: FakeTtsEngine;
  const upload = (fields: Record<string, string>, audio?: Buffer, fileName = 'voice.wav') =>
    test.app.inject({
      method: 'POST',
      url: '/v1/audio/voices',
      ...multipart(fields, audio ? { audio_sample: { name: fileName, bytes: audio } } : {}),
    });

  before(async () => {
    engine = new FakeTtsEngine();
    test = await buildTestApp({
      engine,
      environment: { REF_AUDIO_MAX_SECONDS: '5', REF_AUDIO_MAX_BYTES: '400000', MAX_REF_TEXT_LENGTH: '100' },
    });
  });
  after(async () => test.close());

  it('stores the audio and its transcript under the name, answers the voice as the list shows it', async () => {
    const response = await upload({ name: 'interviewer', ref_text: TRANSCRIPT, consent: 'yes' }, toneWav(3));
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(body.success, true);
    assert.deepEqual(
      { ...body.voice, warnings: undefined },
      {
        id: 'interviewer',
        name: 'interviewer',
        file: 'interviewer.wav',
        has_transcript: true,
        ref_text: TRANSCRIPT,
        duration_s: 3,
        warnings: undefined,
      },
    );
    assert.ok(Array.isArray(body.voice.warnings));
    assert.deepEqual(readFileSync(path.join(test.referenceDirectory, 'interviewer.wav')), toneWav(3));
    assert.equal(
      readFileSync(path.join(test.referenceDirectory, 'interviewer.txt'), 'utf8'),
      `${TRANSCRIPT}\n`,
    );
    assert.ok(!readdirSync(test.referenceDirectory).some((entry) => entry.endsWith('.part')));

    const listed = (await test.app.inject({ method: 'GET', url: '/v1/audio/voices' })).json().voices;
    const { duration_s: _seconds, warnings: _warnings, ...asListed } = body.voice;
    assert.deepEqual(
      listed.find((voice: { name: string }) => voice.name === 'interviewer'),
      asListed,
    );
  });

  it('speaks in the saved voice with its transcript, by name and by its file as ref_audio', async () => {
    const byName = await test.app.inject({
      method: 'POST',
      url: '/v1/audio/speech',
      payload: { input: '안녕하세요.', voice: 'interviewer', response_format: 'wav' },
    });
    assert.equal(byName.statusCode, 200, byName.body);
    assert.equal(engine.voiceRequests.at(-1)!.referenceText, TRANSCRIPT);
    const byFile = await test.app.inject({
      method: 'POST',
      url: '/tts/voice_clone',
      payload: {
        text: '안녕하세요.',
        language: 'Korean',
        ref_audio: 'interviewer.wav',
        ref_text: TRANSCRIPT,
      },
    });
    assert.equal(byFile.statusCode, 200, byFile.body);
  });

  it('a name that is taken is a 409 unless overwrite is asked; overwriting replaces audio and transcript', async () => {
    const taken = await upload({ name: 'interviewer', ref_text: 'other' }, toneWav(2));
    assert.equal(taken.statusCode, 409, taken.body);
    assert.match(taken.json().detail, /already exists.*overwrite=true/);
    assert.equal(taken.json().error.code, 'voice_exists'); // OpenAI's error object too

    const mp3 = path.join(test.referenceDirectory, 'replacement.mp3');
    writeReferenceAudio(mp3, 2);
    const replaced = await upload(
      { name: 'interviewer', ref_text: '', overwrite: 'true' },
      readFileSync(mp3),
      'replacement.mp3',
    );
    assert.equal(replaced.statusCode, 201, replaced.body);
    assert.equal(replaced.json().voice.file, 'interviewer.mp3');
    assert.equal(replaced.json().voice.has_transcript, false);
    // The old WAV would shadow the new MP3, and the old transcript would not match it.
    assert.ok(!existsSync(path.join(test.referenceDirectory, 'interviewer.wav')));
    assert.ok(!existsSync(path.join(test.referenceDirectory, 'interviewer.txt')));
  });

  const refusals: [string, Record<string, string>, Buffer | undefined, number, RegExp][] = [
    ['a name with a slash', { name: '../evil' }, toneWav(2), 422, /cannot be a voice name/],
    ['a name with a dot', { name: 'voice.wav' }, toneWav(2), 422, /without dots/],
    ['no name', {}, toneWav(2), 422, /send name/],
    ['no audio', { name: 'nobody' }, undefined, 422, /send audio_sample/],
    [
      'something that is not audio',
      { name: 'text' },
      Buffer.from('hello world, not audio'),
      422,
      /not audio/,
    ],
    ['audio that is too long', { name: 'long' }, toneWav(6), 422, /6\.00 s long.*REF_AUDIO_MAX_SECONDS/],
    ['audio that is too short', { name: 'short' }, toneWav(0.5), 422, /0\.50 s long/],
    ['silence', { name: 'quiet' }, toneWav(2, 0), 422, /silent/],
    ['audio that is too large', { name: 'large' }, toneWav(9), 413, /REF_AUDIO_MAX_BYTES/],
    [
      'a transcript that is too long',
      { name: 'wordy', ref_text: 'x'.repeat(101) },
      toneWav(2),
      413,
      /MAX_REF_TEXT_LENGTH/,
    ],
  ];
  for (const [what, fields, audio, status, message] of refusals) {
    it(`refuses ${what} with a ${status} that says so, and stores nothing`, async () => {
      const before = readdirSync(test.referenceDirectory).sort();
      const response = await upload(fields, audio);
      assert.equal(response.statusCode, status, response.body);
      assert.match(response.json().detail, message);
      assert.deepEqual(readdirSync(test.referenceDirectory).sort(), before);
    });
  }

  it('refuses an overwrite that is neither yes nor no (422), rather than reading it as no', async () => {
    const response = await upload({ name: 'interviewer', overwrite: 'maybe' }, toneWav(2));
    assert.equal(response.statusCode, 422, response.body);
    const [detail] = response.json().detail as { loc: string[]; msg: string }[];
    assert.deepEqual(detail.loc, ['body', 'overwrite']);
    assert.match(detail.msg, /true or false/);
  });

  it('refuses a second file (413) and a file under another name (400), saying what to send', async () => {
    const twoFiles = await test.app.inject({
      method: 'POST',
      url: '/v1/audio/voices',
      ...multipart(
        { name: 'two' },
        { audio_sample: { name: 'a.wav', bytes: toneWav(2) }, extra: { name: 'b.wav', bytes: toneWav(2) } },
      ),
    });
    assert.equal(twoFiles.statusCode, 413, twoFiles.body);
    assert.match(twoFiles.json().detail, /too many files: send one file, audio_sample/);
    const otherName = await test.app.inject({
      method: 'POST',
      url: '/v1/audio/voices',
      ...multipart({ name: 'other' }, { recording: { name: 'a.wav', bytes: toneWav(2) } }),
    });
    assert.equal(otherName.statusCode, 400, otherName.body);
    assert.match(
      otherName.json().detail,
      /unexpected file field recording: send the recording as audio_sample/,
    );
  });

  it('refuses a body that is not multipart with a 415 that shows the curl form', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/v1/audio/voices',
      payload: { name: 'json' },
    });
    assert.equal(response.statusCode, 415, response.body);
    assert.match(response.json().detail, /audio_sample=@/);
  });

  it('an unknown voice is a 404 that says how to add one', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/v1/audio/speech',
      payload: { input: '안녕하세요.', voice: 'nobody' },
    });
    assert.equal(response.statusCode, 404, response.body);
    const detail = response.json().detail as string;
    assert.match(detail, /no voice named "nobody"/);
    assert.match(detail, /\/ui/);
    assert.match(detail, /POST \/v1\/audio\/voices/);
    assert.match(detail, /copying a recording into REF_AUDIO_DIR/);
    assert.ok(!detail.includes(test.referenceDirectory), 'never the folder’s path on the machine');
  });

  it('DELETE removes a voice and its transcript; a second DELETE is a 404', async () => {
    writeFileSync(path.join(test.referenceDirectory, 'temporary.wav'), toneWav(2));
    writeFileSync(path.join(test.referenceDirectory, 'temporary.txt'), 'text');
    const deleted = await test.app.inject({ method: 'DELETE', url: '/v1/audio/voices/temporary' });
    assert.equal(deleted.statusCode, 200, deleted.body);
    assert.ok(!existsSync(path.join(test.referenceDirectory, 'temporary.wav')));
    assert.ok(!existsSync(path.join(test.referenceDirectory, 'temporary.txt')));
    const again = await test.app.inject({ method: 'DELETE', url: '/v1/audio/voices/temporary' });
    assert.equal(again.statusCode, 404);
  });
});

describe('POST /v1/audio/voices with API_KEY set', () => {
  let test: TestApp;
  before(async () => {
    test = await buildTestApp({ environment: { API_KEY: 'secret-key' } });
  });
  after(async () => test.close());

  it('needs the key, like every other API route', async () => {
    const form = multipart({ name: 'keyed' }, { audio_sample: { name: 'voice.wav', bytes: toneWav(2) } });
    const refused = await test.app.inject({ method: 'POST', url: '/v1/audio/voices', ...form });
    assert.equal(refused.statusCode, 401);
    const accepted = await test.app.inject({
      method: 'POST',
      url: '/v1/audio/voices',
      payload: form.payload,
      headers: { ...form.headers, authorization: 'Bearer secret-key' },
    });
    assert.equal(accepted.statusCode, 201, accepted.body);
  });
});
