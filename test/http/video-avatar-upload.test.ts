import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ffmpegPath } from '../../src/media/ffmpeg.ts';
import { writeSyntheticMuseTalkModel } from '../../src/models/synth-musetalk.ts';
import { buildTestApp, eventually, parseSse, SEED_BODY, type TestApp } from '../helper.ts';
import { faceVideo } from '../support/face-video.ts';
import { multipart } from '../support/multipart.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

const FORM = {
  text: SEED_BODY.text,
  language: 'Korean',
  ref_audio: SEED_BODY.ref_audio,
  ref_text: SEED_BODY.ref_text,
  model_size: '0.6b',
  seed: '3',
};

/** Frame count and duration of the video stream: ffprobe where installed, else ffmpeg decoding it. */
function videoStream(file: string): { frames: number; seconds: number } {
  const ffprobe = spawnSync(
    'ffprobe',
    [
      ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=nb_read_frames,duration', '-of', 'json', file],
    ],
    { encoding: 'utf8', timeout: 60000 },
  );
  if (ffprobe.status === 0) {
    const [stream] = (
      JSON.parse(ffprobe.stdout) as { streams: { nb_read_frames: string; duration: string }[] }
    ).streams;
    return { frames: Number(stream.nb_read_frames), seconds: Number(stream.duration) };
  }
  const stderr = spawnSync(ffmpegPath(), ['-hide_banner', '-i', file, '-map', '0:v:0', '-f', 'null', '-'], {
    encoding: 'utf8',
    timeout: 60000,
  }).stderr;
  const frames = Number([...stderr.matchAll(/frame=\s*(\d+)/g)].at(-1)![1]);
  return { frames, seconds: frames / 25 };
}

function speechSeconds(wav: Buffer): number {
  return (wav.length - 44) / 2 / 24000;
}

describe('avatar videos through the HTTP API (embedded MuseTalk, synthetic models)', () => {
  const work = temporaryDirectory('video-avatar-http-');
  let test: TestApp;
  let video: Buffer;
  let firstMp4: Buffer;

  const post = (url: string, form: Record<string, string>, files: Parameters<typeof multipart>[1]) =>
    test.app.inject({ method: 'POST', url, ...multipart(form, files) });
  const withVideo = (bytes = video) => ({ avatar_video: { name: 'moving.mp4', bytes } });

  before(async () => {
    const modelDirectory = path.join(work, 'musetalk');
    await writeSyntheticMuseTalkModel(modelDirectory, { dtype: 'float32', size: 'tiny' });
    video = await faceVideo({ faceFrames: 25, blackFrames: 3 });
    // The same video as a named avatar: prepared at startup, into the cache the upload then finds.
    mkdirSync(path.join(work, 'avatars'));
    writeFileSync(path.join(work, 'avatars', 'moving.mp4'), video);
    test = await buildTestApp({
      environment: {
        ENABLE_VIDEO: 'true',
        MUSETALK_MODEL_DIR: modelDirectory,
        VIDEO_AVATAR_DIR: path.join(work, 'avatars'),
        CACHE_DIR: path.join(work, 'cache'),
        VIDEO_OUTPUT_DIR: path.join(work, 'output'),
        VIDEO_AVATAR_MAX_SECONDS: '1.5',
        VIDEO_AVATAR_MAX_BYTES: '400000',
      },
    });
  });
  after(async () => test?.close());

  it('renders an uploaded avatar_video to an MP4 as long as the speech, and says which frames had no face', async () => {
    const response = await post('/video/generate', FORM, withVideo());
    assert.equal(response.statusCode, 200, response.statusCode === 200 ? '' : response.body);
    assert.equal(response.headers['content-type'], 'video/mp4');
    assert.equal(response.headers['x-avatar-used'], 'moving.mp4');
    assert.match(
      decodeURIComponent(String(response.headers['x-avatar-notice'])),
      /3 of the 28 frames of the avatar video have no usable face/,
    );
    firstMp4 = response.rawPayload;
    const file = path.join(work, 'answer.mp4');
    writeFileSync(file, firstMp4);
    const speech = await test.app.inject({
      method: 'POST',
      url: '/tts/voice_clone',
      payload: { ...SEED_BODY, seed: 3 },
    });
    const seconds = speechSeconds(speech.rawPayload);
    const stream = videoStream(file);
    assert.equal(stream.frames, Math.max(1, Math.floor(seconds * 25)), `speech ${seconds} s`);
    assert.ok(Math.abs(stream.seconds - stream.frames / 25) < 0.05, `video ${stream.seconds} s`);
  });

  it('answers the same request from the render cache, and renders another video', async () => {
    const again = await post('/video/generate', FORM, withVideo());
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.headers['x-cache'], 'hit');
    assert.deepEqual(again.rawPayload, firstMp4);
    const other = await post(
      '/video/generate',
      FORM,
      withVideo(await faceVideo({ faceFrames: 3, blackFrames: 0 })),
    );
    assert.equal(other.statusCode, 200, other.body);
    assert.equal(other.headers['x-cache'], undefined, 'another video is another avatar');
    assert.equal(other.headers['x-avatar-notice'], undefined, 'every frame of it has a face');
  });

  it('lists a video in VIDEO_AVATAR_DIR and renders it by name', async () => {
    const list = await test.app.inject({ method: 'GET', url: '/video/avatars' });
    assert.deepEqual(list.json(), { avatars: ['moving.mp4'] });
    const response = await post('/video/generate', { ...FORM, seed: '6', avatar: 'moving.mp4' }, {});
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['x-avatar-used'], 'moving.mp4');
    assert.match(decodeURIComponent(String(response.headers['x-avatar-notice'])), /3 of the 28 frames/);
  });

  it('streams it live over SSE (a playable HLS playlist before done)', async () => {
    const response = await post('/video/generate/sse', { ...FORM, seed: '4' }, withVideo());
    const events = parseSse(response.body).map(({ event }) => event);
    assert.ok(events.includes('playable'), events.join(', '));
    assert.ok(events.indexOf('playable') < events.indexOf('done'), events.join(', '));
  });

  it('runs it as a job', async () => {
    const submitted = await post('/video/jobs', { ...FORM, seed: '5' }, withVideo());
    assert.equal(submitted.statusCode, 202, submitted.body);
    const id = (submitted.json() as { job_id: string }).job_id;
    const state = await eventually(
      async () =>
        (await test.app.inject({ method: 'GET', url: `/video/jobs/${id}` })).json() as { status: string },
      ({ status }) => status === 'succeeded' || status === 'failed',
      120000,
    );
    assert.equal(state.status, 'succeeded', JSON.stringify(state));
  });

  it('refuses videos over the limits, and files that are no video, with a clear 4xx before any work', async () => {
    const long = await faceVideo({ faceFrames: 50, blackFrames: 0 });
    for (const url of ['/video/generate', '/video/jobs']) {
      const response = await post(url, FORM, withVideo(long));
      assert.equal(response.statusCode, 413, response.body);
      assert.match(response.json().detail, /lasts 2\.00 s; the limit is 1\.5 s \(VIDEO_AVATAR_MAX_SECONDS\)/);
    }
    const big = await post('/video/generate', FORM, withVideo(Buffer.alloc(500000)));
    assert.equal(big.statusCode, 413, big.body);
    assert.match(big.json().detail, /limit of 400000 bytes \(VIDEO_AVATAR_MAX_BYTES\)/);
    const notVideo = await post('/video/generate', FORM, withVideo(Buffer.from('just text')));
    assert.equal(notVideo.statusCode, 415, notVideo.body);
    assert.match(notVideo.json().detail, /send an MP4, MOV or WebM video/);
    const both = await post('/video/generate', FORM, {
      ...withVideo(),
      avatar_image: { name: 'face.jpg', bytes: Buffer.from('photo') },
    });
    assert.equal(both.statusCode, 400, both.body);
    assert.match(both.json().detail, /avatar_image or avatar_video, not both/);
  });
});
