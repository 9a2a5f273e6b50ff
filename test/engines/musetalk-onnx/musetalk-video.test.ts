import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { ffmpegPath } from '../../../src/media/ffmpeg.ts';
import { writeSyntheticMuseTalkModel } from '../../../src/models/synth-musetalk.ts';
import { buildTestApp, parseSse, SEED_BODY, type TestApp } from '../../helper.ts';
import { multipart } from '../../support/multipart.ts';
import { singleFacePhoto } from '../../support/face-photos.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

const FORM = {
  text: SEED_BODY.text,
  language: 'Korean',
  ref_audio: SEED_BODY.ref_audio,
  ref_text: SEED_BODY.ref_text,
  model_size: '0.6b',
};

/** What ffmpeg says about a file (the npm package ships ffmpeg but not ffprobe). */
function probe(file: string): {
  video: string;
  audio: string;
  fps: number;
  seconds: number;
  width: number;
  height: number;
} {
  const stderr = spawnSync(ffmpegPath(), ['-hide_banner', '-i', file], { encoding: 'utf8' }).stderr;
  const duration = /Duration: (\d+):(\d+):([\d.]+)/.exec(stderr)!;
  const video = /Stream #\S+: Video: (\w+).*?, (\d+)x(\d+).*?, ([\d.]+) fps/.exec(stderr)!;
  return {
    video: video[1],
    audio: /Stream #\S+: Audio: (\w+)/.exec(stderr)![1],
    fps: Number(video[4]),
    seconds: Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]),
    width: Number(video[2]),
    height: Number(video[3]),
  };
}

function frames(file: string, width: number, height: number): Uint8Array[] {
  const raw = execFileSync(
    ffmpegPath(),
    ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { maxBuffer: 1 << 30 },
  );
  const size = width * height * 3;
  return Array.from({ length: raw.length / size }, (_value, index) =>
    raw.subarray(index * size, (index + 1) * size),
  );
}

function meanDifference(
  a: Uint8Array,
  b: Uint8Array,
  width: number,
  region: { x1: number; y1: number; x2: number; y2: number },
): number {
  let sum = 0;
  let count = 0;
  for (let y = region.y1; y < region.y2; y += 1) {
    for (let x = region.x1; x < region.x2; x += 1) {
      for (let channel = 0; channel < 3; channel += 1)
        sum += Math.abs(a[(y * width + x) * 3 + channel] - b[(y * width + x) * 3 + channel]);
      count += 3;
    }
  }
  return sum / count;
}

describe('embedded MuseTalk through /video/generate', () => {
  let test: TestApp;
  let photo: Buffer;
  const work = temporaryDirectory('musetalk-test-');
  before(async () => {
    const modelDirectory = path.join(work, 'musetalk');
    await writeSyntheticMuseTalkModel(modelDirectory, { dtype: 'float32', size: 'tiny' });
    photo = await singleFacePhoto(2);
    test = await buildTestApp({
      environment: {
        ENABLE_VIDEO: 'true',
        MUSETALK_MODEL_DIR: modelDirectory,
        VIDEO_AVATAR_DIR: path.join(work, 'avatars'),
        CACHE_DIR: path.join(work, 'cache'),
      },
    });
  });
  after(async () => test.close());

  it('returns an H.264 + AAC MP4 at 25 fps lasting as long as the speech, with a moving mouth on the unchanged photo', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate',
      ...multipart(FORM, { avatar_image: { name: 'person.jpg', bytes: photo } }),
    });
    assert.equal(response.statusCode, 200, response.statusCode === 200 ? '' : response.body);
    assert.equal(response.headers['content-type'], 'video/mp4');
    const file = path.join(work, 'out.mp4');
    writeFileSync(file, response.rawPayload);
    const info = probe(file);
    assert.equal(info.video, 'h264');
    assert.equal(info.audio, 'aac');
    assert.equal(info.fps, 25);
    const speechSeconds = Number(response.headers['x-tts-time']) >= 0 ? await speechLength(test) : 0;
    assert.ok(
      Math.abs(info.seconds - speechSeconds) <= 0.1,
      `video ${info.seconds} s, speech ${speechSeconds} s`,
    );

    const { data: source, info: size } = await sharp(photo)
      .removeAlpha()
      .resize({ width: 720, height: 720, fit: 'inside', withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.equal(info.width, size.width - (size.width % 2));
    const decoded = frames(file, info.width, info.height);
    assert.ok(decoded.length >= 10);
    const original = new Uint8Array(info.width * info.height * 3);
    for (let y = 0; y < info.height; y += 1)
      original.set(
        source.subarray(y * size.width * 3, (y * size.width + info.width) * 3),
        y * info.width * 3,
      );
    // Far from the face (a top corner) every frame is the photo, within codec error.
    const corner = { x1: 0, y1: 0, x2: Math.floor(info.width / 6), y2: Math.floor(info.height / 6) };
    for (const frame of decoded) assert.ok(meanDifference(frame, original, info.width, corner) < 6);
    // The lower face changes between frames.
    const lowerFace = {
      x1: Math.floor(info.width * 0.3),
      y1: Math.floor(info.height * 0.5),
      x2: Math.floor(info.width * 0.7),
      y2: Math.floor(info.height * 0.8),
    };
    const changes = decoded
      .slice(1)
      .map((frame, index) => largestTileChange(frame, decoded[index], info.width, lowerFace));
    assert.ok(
      Math.max(...changes) > 4,
      `largest frame-to-frame change of a 16-px tile in the lower face: ${Math.max(...changes).toFixed(2)}`,
    );
    assert.ok(
      changes.filter((change) => change > 1).length >= changes.length / 4,
      'the mouth moves in many frames, not once',
    );
  });

  it('answers a repeated seeded request from its stored render, and renders a changed one', async () => {
    const seeded = { ...FORM, seed: '5' };
    const send = (form: Record<string, string>, bytes = photo) =>
      test.app.inject({
        method: 'POST',
        url: '/video/generate',
        ...multipart(form, { avatar_image: { name: 'person.jpg', bytes } }),
      });
    const first = await send(seeded);
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.headers['x-cache'], undefined);
    const again = await send(seeded);
    assert.equal(again.headers['x-cache'], 'hit');
    assert.deepEqual(again.rawPayload, first.rawPayload);
    const flipped = await sharp(photo).flop().jpeg().toBuffer();
    const other = await send(seeded, flipped);
    assert.equal(other.statusCode, 200, other.body);
    assert.equal(other.headers['x-cache'], undefined, 'another photo is rendered');
  });

  it('reports the real stages over SSE and serves the finished MP4', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate/sse',
      ...multipart(FORM, { avatar_image: { name: 'person.jpg', bytes: photo } }),
    });
    const events = parseSse(response.body);
    const progress = events
      .filter(({ event }) => event === 'progress')
      .map(({ data }) => data as { stage: string; fraction: number | null; elapsed: number });
    const stages = progress.map(({ stage }) => stage).filter((stage, index, all) => stage !== all[index - 1]);
    assert.deepEqual(stages, ['tts', 'avatar', 'features', 'lipsync', 'encode']);
    const lipsync = progress.filter(({ stage }) => stage === 'lipsync').map(({ fraction }) => fraction!);
    assert.deepEqual(
      lipsync,
      [...lipsync].sort((a, b) => a - b),
      'lip-sync progress only goes forward',
    );
    assert.equal(lipsync.at(-1), 1);
    // Reports arrive while the work runs, not in one burst at the end.
    const firstLipsync = progress.find(({ stage }) => stage === 'lipsync')!;
    const encoded = progress.findLast(({ stage }) => stage === 'encode')!;
    assert.ok(
      encoded.elapsed - firstLipsync.elapsed > 0.05,
      `lip-sync reported at ${firstLipsync.elapsed} s, encoding done at ${encoded.elapsed} s`,
    );
    const done = events.at(-1)!;
    assert.equal(done.event, 'done', JSON.stringify(done.data));
    const download = await test.app.inject({
      method: 'GET',
      url: (done.data as { video_url: string }).video_url,
    });
    assert.equal(download.statusCode, 200);
    assert.equal(download.rawPayload.subarray(4, 8).toString('latin1'), 'ftyp', 'an MP4');
  });

  it('refuses a photo with no face with a 422 that says so', async () => {
    const blank = await sharp({
      create: { width: 320, height: 240, channels: 3, background: { r: 120, g: 160, b: 200 } },
    })
      .jpeg()
      .toBuffer();
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate',
      ...multipart(FORM, { avatar_image: { name: 'sky.jpg', bytes: blank } }),
    });
    assert.equal(response.statusCode, 422, response.body);
    assert.match(response.json().detail, /no face was found/);
  });

  it('refuses a file that is not an image with a 415', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate',
      ...multipart(FORM, { avatar_image: { name: 'x.jpg', bytes: Buffer.from('%PDF-1.4 not an image') } }),
    });
    assert.equal(response.statusCode, 415, response.body);
  });

  it('refuses an image over VIDEO_MAX_PIXELS before decoding it', async () => {
    const huge = await sharp({
      create: { width: 9000, height: 9000, channels: 3, background: { r: 0, g: 0, b: 0 } },
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    const response = await test.app.inject({
      method: 'POST',
      url: '/video/generate',
      ...multipart(FORM, { avatar_image: { name: 'bomb.png', bytes: huge } }),
    });
    assert.equal(response.statusCode, 413, response.body);
    assert.match(response.json().detail, /VIDEO_MAX_PIXELS/);
  });
});

/** The largest mean difference of any 16 × 16 tile in the region: a moving mouth, not noise over the whole face. */
function largestTileChange(
  a: Uint8Array,
  b: Uint8Array,
  width: number,
  region: { x1: number; y1: number; x2: number; y2: number },
): number {
  let largest = 0;
  for (let y = region.y1; y + 16 <= region.y2; y += 8) {
    for (let x = region.x1; x + 16 <= region.x2; x += 8)
      largest = Math.max(largest, meanDifference(a, b, width, { x1: x, y1: y, x2: x + 16, y2: y + 16 }));
  }
  return largest;
}

/** The seconds of speech the fake engine makes for the guide's text (what the video must match). */
async function speechLength(test: TestApp): Promise<number> {
  const response = await test.app.inject({
    method: 'POST',
    url: '/tts/voice_clone',
    payload: { ...SEED_BODY, seed: 1 },
  });
  const bytes = response.rawPayload.length - 44;
  return bytes / 2 / 24000;
}

describe('avatar photos with several faces', () => {
  it('refuses a group photo where no face is clearly the main one', async () => {
    const { readFileSync } = await import('node:fs');
    const { demoPhoto } = await import('../../support/face-photos.ts');
    const { detectFaces, selectDominantFace } =
      await import('../../../src/engines/musetalk-onnx/face-detector.ts');
    const { data, info } = await sharp(readFileSync(demoPhoto(1)))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const faces = await detectFaces(data, info.width, info.height);
    assert.ok(faces.length > 1, 'the demo photo shows several people');
    assert.throws(() => selectDominantFace(faces), /faces and none is clearly the main one/);
  });
});

describe('embedded MuseTalk engine, cancelled', () => {
  it('stops a render whose client left, and keeps the worker for it until it has stopped', async () => {
    const { loadConfig } = await import('../../../src/config.ts');
    const { MuseTalkEngine } = await import('../../../src/engines/musetalk-onnx/engine.ts');
    const { CancelledError } = await import('../../../src/errors.ts');
    const work = temporaryDirectory('musetalk-cancel-');
    const modelDirectory = path.join(work, 'musetalk');
    await writeSyntheticMuseTalkModel(modelDirectory, { dtype: 'float32', size: 'tiny' });
    const engine = new MuseTalkEngine(
      loadConfig({
        MUSETALK_MODEL_DIR: modelDirectory,
        CACHE_DIR: path.join(work, 'cache'),
        VIDEO_BATCH_SIZE: '2',
      }),
    );
    const photo = await singleFacePhoto(2);
    // Eight seconds of a voice-like tone: enough frames that the render is still running when cancelled.
    const samples = Float32Array.from(
      { length: 16000 * 8 },
      (_value, index) => 0.3 * Math.sin(index / 8) * Math.abs(Math.sin(index / 3000)),
    );
    const render = (signal: AbortSignal) =>
      engine.render(
        {
          avatar: { kind: 'image', bytes: photo },
          speech: { samples, sampleRate: 16000 },
          text: '',
          language: 'Korean',
          model: 'base_0.6b',
        },
        signal,
      );
    try {
      const controller = new AbortController();
      let lipsyncReports = 0;
      await assert.rejects(
        (async () => {
          for await (const part of render(controller.signal)) {
            if (part.type === 'render-progress' && part.stage === 'lipsync' && ++lipsyncReports === 2)
              controller.abort();
          }
        })(),
        (error: unknown) => error instanceof CancelledError,
      );
      // The one worker is still finishing the cancelled job's batch: a new render waits for it,
      // then runs normally.
      let video: Buffer | undefined;
      for await (const part of render(AbortSignal.timeout(60000)))
        if (part.type === 'render-end') video = part.mp4;
      assert.equal(video?.subarray(4, 8).toString('latin1'), 'ftyp');
    } finally {
      await engine.close();
    }
  });
});

describe('embedded MuseTalk engine with a cache it cannot write', () => {
  it('renders anyway (the avatar is prepared each time), leaving no half-written cache file', async () => {
    const { loadConfig } = await import('../../../src/config.ts');
    const { MuseTalkEngine } = await import('../../../src/engines/musetalk-onnx/engine.ts');
    const work = temporaryDirectory('musetalk-full-cache-');
    const modelDirectory = path.join(work, 'musetalk');
    await writeSyntheticMuseTalkModel(modelDirectory, { dtype: 'float32', size: 'tiny' });
    // A file where CACHE_DIR/avatars should be: every cache write fails, as on a full disk.
    mkdirSync(path.join(work, 'cache'));
    writeFileSync(path.join(work, 'cache', 'avatars'), '');
    const engine = new MuseTalkEngine(
      loadConfig({ MUSETALK_MODEL_DIR: modelDirectory, CACHE_DIR: path.join(work, 'cache') }),
    );
    try {
      const samples = Float32Array.from({ length: 16000 }, (_value, index) => 0.3 * Math.sin(index / 8));
      for (let attempt = 0; attempt < 2; attempt += 1) {
        let video: Buffer | undefined;
        for await (const part of engine.render(
          {
            avatar: { kind: 'image', bytes: await singleFacePhoto(2) },
            speech: { samples, sampleRate: 16000 },
            text: '',
            language: 'Korean',
            model: 'base_0.6b',
          },
          AbortSignal.timeout(60000),
        ))
          if (part.type === 'render-end') video = part.mp4;
        assert.equal(video?.subarray(4, 8).toString('latin1'), 'ftyp');
      }
      assert.deepEqual(readdirSync(path.join(work, 'cache')), ['avatars']);
    } finally {
      await engine.close();
    }
  });
});
