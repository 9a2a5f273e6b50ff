import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import { MuseTalkEngine } from '../../../src/engines/musetalk-onnx/engine.ts';
import { MuseTalkRuntime } from '../../../src/engines/musetalk-onnx/musetalk-runtime.ts';
import type { PreparedVideoAvatar } from '../../../src/engines/musetalk-onnx/prepare-video-avatar.ts';
import { pingPongIndex } from '../../../src/engines/musetalk-onnx/render-avatar.ts';
import { VideoAvatarCache } from '../../../src/engines/musetalk-onnx/video-avatar-cache.ts';
import {
  checkAvatarVideo,
  checkVideoProbe,
  openAvatarVideo,
  type AvatarVideo,
  type VideoAvatarLimits,
} from '../../../src/engines/musetalk-onnx/video-input.ts';
import type { RenderEndPart } from '../../../src/engines/interfaces/lipsync-engine.ts';
import { InvalidInputError } from '../../../src/errors.ts';
import { ffmpegPath } from '../../../src/media/ffmpeg.ts';
import { writeSyntheticMuseTalkModel } from '../../../src/models/synth-musetalk.ts';
import { chooseProvider } from '../../../src/onnx/session-options.ts';
import { FACE_VIDEO_SIDE, faceVideo } from '../../support/face-video.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

const LIMITS: VideoAvatarLimits = {
  maxBytes: 1 << 24,
  maxSeconds: 10,
  maxFrames: 250,
  maxPixels: 1920 * 1080,
  maxSide: 720,
};
const FACE_FRAMES = 25;
const BLACK_FRAMES = 3;
const PAN = 48;

function decodeFrames(file: string, side: number): Uint8Array[] {
  const raw = execFileSync(
    ffmpegPath(),
    ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { maxBuffer: 1 << 28 },
  );
  const size = side * side * 3;
  return Array.from({ length: raw.length / size }, (_value, index) =>
    raw.subarray(index * size, (index + 1) * size),
  );
}

/** Mean absolute difference over the top quarter (forehead and background: never blended). */
function topDifference(a: Uint8Array, b: Uint8Array, side: number): number {
  let sum = 0;
  const end = Math.floor(side / 4) * side * 3;
  for (let index = 0; index < end; index += 1) sum += Math.abs(a[index] - b[index]);
  return sum / end;
}

const mean = (frame: Uint8Array) => frame.reduce((sum, value) => sum + value, 0) / frame.length;

describe('ping-pong order', () => {
  it('walks the frames forward then backward, each end twice, as frame_list + reversed does', () => {
    assert.deepEqual(
      Array.from({ length: 8 }, (_value, frame) => pingPongIndex(frame, 3)),
      [0, 1, 2, 2, 1, 0, 0, 1],
    );
    assert.deepEqual(
      Array.from({ length: 3 }, (_value, frame) => pingPongIndex(frame, 1)),
      [0, 0, 0],
    );
  });
});

describe('avatar video limits', () => {
  const probe = { container: 'mov,mp4,m4a,3gp,3g2,mj2', seconds: 2, width: 640, height: 480 };
  const refusal = (change: Partial<typeof probe>, limits: Partial<VideoAvatarLimits> = {}) => {
    try {
      checkVideoProbe({ ...probe, ...change }, { ...LIMITS, ...limits });
    } catch (error) {
      assert.ok(error instanceof InvalidInputError);
      return { status: error.statusCode, code: error.code, message: error.message };
    }
    return undefined;
  };

  it('accepts MP4, MOV and WebM within the limits', () => {
    assert.equal(refusal({}), undefined);
    assert.equal(refusal({ container: 'matroska,webm' }), undefined);
    assert.equal(refusal({ seconds: undefined }), undefined, 'a WebM recording without a duration');
  });

  it('refuses each limit with a 4xx that names its variable', () => {
    assert.deepEqual(refusal({ container: 'avi' })?.status, 415);
    const long = refusal({ seconds: 12 });
    assert.equal(long?.status, 413);
    assert.match(long!.message, /lasts 12\.00 s; the limit is 10 s \(VIDEO_AVATAR_MAX_SECONDS\)/);
    const frames = refusal({ seconds: 4 }, { maxFrames: 50 });
    assert.equal(frames?.code, 'avatar_video_too_many_frames');
    assert.match(frames!.message, /100 frames at 25 fps; the limit is 50 \(VIDEO_AVATAR_MAX_FRAMES\)/);
    const pixels = refusal({ width: 3840, height: 2160 });
    assert.equal(pixels?.status, 413);
    assert.match(pixels!.message, /3840 × 2160 pixels.*VIDEO_AVATAR_MAX_PIXELS/);
  });

  it('refuses bytes that are no video, and an upload over VIDEO_AVATAR_MAX_BYTES', async () => {
    await assert.rejects(checkAvatarVideo(Buffer.from('not a video at all'), LIMITS), {
      statusCode: 415,
      code: 'unsupported_video',
    });
    await assert.rejects(checkAvatarVideo(Buffer.alloc(2048), { ...LIMITS, maxBytes: 1024 }), {
      statusCode: 413,
      message: /VIDEO_AVATAR_MAX_BYTES/,
    });
  });
});

describe('avatar video containers', () => {
  for (const format of ['mov', 'webm'] as const) {
    it(`decodes ${format.toUpperCase()} to every frame at 25 fps`, async () => {
      const bytes = await faceVideo({ faceFrames: 6, blackFrames: 2, format });
      await checkAvatarVideo(bytes, LIMITS);
      const video = await openAvatarVideo(bytes, LIMITS);
      try {
        assert.equal(video.frames.count, 8);
        assert.equal(video.width, FACE_VIDEO_SIDE);
        assert.ok(mean(await video.frames.read(0)) > 30, 'a photo frame');
        assert.ok(mean(await video.frames.read(7)) < 3, 'a black frame');
      } finally {
        await video.close();
      }
    });
  }

  it('refuses a video longer than VIDEO_AVATAR_MAX_FRAMES', async () => {
    const bytes = await faceVideo({ faceFrames: 6, blackFrames: 0 });
    await assert.rejects(openAvatarVideo(bytes, { ...LIMITS, maxFrames: 5 }), {
      statusCode: 413,
      message: /6 frames at 25 fps; the limit is 5 \(VIDEO_AVATAR_MAX_FRAMES\)/,
    });
  });
});

describe('a prepared video avatar (synthetic models)', () => {
  const work = temporaryDirectory('video-avatar-');
  const modelDirectory = path.join(work, 'model');
  let runtime: MuseTalkRuntime;
  let bytes: Buffer;
  let video: AvatarVideo;
  let prepared: PreparedVideoAvatar;
  let preparedMs: number;

  before(async () => {
    await writeSyntheticMuseTalkModel(modelDirectory, { dtype: 'float32', size: 'tiny' });
    runtime = await MuseTalkRuntime.load(modelDirectory, chooseProvider('cpu', { threads: 1 }), 'float32');
    bytes = await faceVideo({ faceFrames: FACE_FRAMES, blackFrames: BLACK_FRAMES, pan: PAN });
    video = await openAvatarVideo(bytes, LIMITS);
    const startedAt = performance.now();
    prepared = await new VideoAvatarCache({ directory: path.join(work, 'cache'), maxBytes: 1 << 30 }).get(
      video,
      runtime,
    );
    preparedMs = performance.now() - startedAt;
  });
  after(async () => {
    await video?.close();
    await runtime?.release();
  });

  it('has every frame at 25 fps, each with a face box that follows the motion', () => {
    console.log(`prepared ${prepared.frameCount} frames in ${preparedMs.toFixed(0)} ms`);
    assert.equal(video.width, FACE_VIDEO_SIDE);
    assert.equal(prepared.frameCount, FACE_FRAMES + BLACK_FRAMES);
    const boxes = prepared.faceBoxes.slice(0, FACE_FRAMES);
    assert.ok(
      boxes.every((box) => box !== null),
      'a face in every photo frame',
    );
    const centers = boxes.map((box) => (box!.x1 + box!.x2) / 2);
    // The window slides right over the photo, so the face moves left by PAN pixels, steadily.
    const moved = centers[0] - centers[FACE_FRAMES - 1];
    assert.ok(Math.abs(moved - PAN) <= 8, `the face moved ${moved} px, the video ${PAN} px`);
    for (let frame = 4; frame < FACE_FRAMES; frame += 4)
      assert.ok(centers[frame] < centers[frame - 4], `frame ${frame} is left of frame ${frame - 4}`);
    assert.equal(prepared.latents.length, FACE_FRAMES * 8 * 32 * 32, 'latents only for frames with a face');
  });

  it('keeps the black frames without a face', () => {
    assert.deepEqual(prepared.faceBoxes.slice(FACE_FRAMES), [null, null, null]);
  });

  it('is read back from disk by a new cache without computing anything', async () => {
    const refusing = new Proxy(runtime, {
      get(target, property, receiver) {
        if (property === 'encode' || property === 'parse')
          return () => Promise.reject(new Error('the cache was not used'));
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const cache = new VideoAvatarCache({ directory: path.join(work, 'cache'), maxBytes: 1 << 30 });
    const stored = await cache.get(video, refusing);
    assert.deepEqual(stored.faceBoxes, prepared.faceBoxes);
    assert.deepEqual(stored.latents, prepared.latents);
    assert.deepEqual(stored.alpha, prepared.alpha);
    assert.equal(cache.get(video, refusing), cache.get(video, refusing), 'kept in memory too');
  });
});

describe('a video avatar rendered by the engine (synthetic models)', () => {
  const work = temporaryDirectory('video-avatar-render-');
  let engine: MuseTalkEngine;
  before(async () => {
    await writeSyntheticMuseTalkModel(path.join(work, 'model'), { dtype: 'float32', size: 'tiny' });
    engine = new MuseTalkEngine(
      loadConfig({
        ENABLE_VIDEO: 'true',
        MUSETALK_MODEL_DIR: path.join(work, 'model'),
        CACHE_DIR: path.join(work, 'cache'),
        VIDEO_AVATAR_DIR: path.join(work, 'avatars'),
      }),
    );
  });
  after(async () => engine?.close());

  it('walks the avatar frames forward then backward, and shows faceless frames unchanged', async () => {
    const count = FACE_FRAMES + BLACK_FRAMES;
    const bytes = await faceVideo({ faceFrames: FACE_FRAMES, blackFrames: BLACK_FRAMES, pan: PAN });
    // Speech for more than two full cycles' worth of frames: 2.4 s → 60 output frames, 2n = 56.
    const samples = new Float32Array(Math.round(2.4 * 16000));
    for (let index = 0; index < samples.length; index += 1)
      samples[index] = 0.3 * Math.sin((2 * Math.PI * 180 * index) / 16000) * Math.sin(index / 900);
    let end: RenderEndPart | undefined;
    for await (const part of engine.render(
      {
        avatar: { kind: 'video', bytes, fileName: 'moving.mp4' },
        speech: { samples, sampleRate: 16000 },
        text: '',
        language: 'Korean',
        model: 'base_0.6b',
      },
      AbortSignal.timeout(240000),
    ))
      if (part.type === 'render-end') end = part;
    assert.ok(end, 'the render finished');
    assert.equal(end.notices.length, 1);
    assert.match(
      end.notices[0],
      /3 of the 28 frames of the avatar video have no usable face.*shown unchanged/,
    );
    const file = path.join(work, 'rendered.mp4');
    writeFileSync(file, end.mp4);
    const frames = decodeFrames(file, FACE_VIDEO_SIDE);
    assert.equal(frames.length, 60);

    // Output frame k and 2n − 1 − k show the same avatar frame; k and a frame far from it do not.
    for (const k of [0, 5, 12, 20]) {
      const mirror = 2 * count - 1 - k;
      const same = topDifference(frames[k], frames[mirror], FACE_VIDEO_SIDE);
      const other = topDifference(frames[k], frames[(k + 12) % count], FACE_VIDEO_SIDE);
      assert.ok(same < 4, `frames ${k} and ${mirror}: ${same.toFixed(2)}`);
      assert.ok(other > 2 * same + 2, `frames ${k} and ${(k + 12) % count} differ: ${other.toFixed(2)}`);
    }
    // The cycle restarts at 2n: output frame 56 is avatar frame 0 again.
    assert.ok(topDifference(frames[0], frames[2 * count], FACE_VIDEO_SIDE) < 4);
    // Avatar frames 25–27 are black: output frames 25–30 (forward, then back) stay black.
    for (let frame = FACE_FRAMES; frame < 2 * count - FACE_FRAMES; frame += 1)
      assert.ok(
        mean(frames[frame]) < 3,
        `output frame ${frame} is black (${mean(frames[frame]).toFixed(2)})`,
      );
    assert.ok(mean(frames[FACE_FRAMES - 1]) > 30, 'the last photo frame is not');
  });
});
