import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeWav } from '../../../src/audio/wav.ts';
import { loadConfig } from '../../../src/config.ts';
import { museTalkFaceBox } from '../../../src/engines/musetalk-onnx/crop.ts';
import { MuseTalkEngine } from '../../../src/engines/musetalk-onnx/engine.ts';
import type { RenderEndPart } from '../../../src/engines/interfaces/lipsync-engine.ts';
import { ffmpegPath } from '../../../src/media/ffmpeg.ts';
import { writeSyntheticMuseTalkModel } from '../../../src/models/synth-musetalk.ts';
import { MUSETALK_FIXTURES } from '../../support/official-musetalk.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

/**
 * The synthetic lip-sync model exists so that a user without weights sees the pipeline work: the mouth
 * must open and close with speech and stay still in silence. Measured on the rendered MP4.
 */
describe('a video from the synthetic lip-sync model', () => {
  const work = temporaryDirectory('synthetic-lipsync-');
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

  it('opens and closes the mouth with speech, and keeps it still in silence', async () => {
    const speech = decodeWav(readFileSync(path.join(MUSETALK_FIXTURES, 'speech-16k.wav'))).samples;
    const silenceSeconds = 1.2;
    const samples = new Float32Array(speech.length + Math.round(silenceSeconds * 16000));
    samples.set(speech);
    let end: RenderEndPart | undefined;
    for await (const part of engine.render(
      {
        avatar: { kind: 'image', bytes: readFileSync(path.join(MUSETALK_FIXTURES, 'face-2.png')) },
        speech: { samples, sampleRate: 16000 },
        text: '',
        language: 'Korean',
        model: 'base_0.6b',
      },
      AbortSignal.timeout(120000),
    ))
      if (part.type === 'render-end') end = part;
    assert.ok(end, 'the render finished');
    const file = path.join(work, 'talking.mp4');
    writeFileSync(file, end.mp4);
    const { width, height, frames } = decodeFrames(file);

    const face = JSON.parse(readFileSync(path.join(MUSETALK_FIXTURES, 'faces.json'), 'utf8'))['face-2.png'];
    const box = museTalkFaceBox(face, width, height);
    const mouth = {
      x1: Math.round(box.x1 + 0.3 * (box.x2 - box.x1)),
      x2: Math.round(box.x1 + 0.7 * (box.x2 - box.x1)),
      y1: Math.round(box.y1 + 0.6 * (box.y2 - box.y1)),
      y2: Math.round(box.y1 + 0.85 * (box.y2 - box.y1)),
    };
    const brightness = frames.map((frame) => meanBrightness(frame, width, mouth));
    const speechFrames = brightness.slice(2, Math.floor((speech.length / 16000) * 25) - 2);
    const silentFrames = brightness.slice(Math.ceil((speech.length / 16000) * 25) + 3);
    assert.ok(silentFrames.length >= 20, `${silentFrames.length} silent frames`);
    const range = (values: number[]) => Math.max(...values) - Math.min(...values);
    const steps = (values: number[]) =>
      values.slice(1).map((value, index) => Math.abs(value - values[index]));
    // Speech: the mouth region darkens and brightens again, many times.
    assert.ok(
      range(speechFrames) > 10,
      `mouth brightness varies by ${range(speechFrames).toFixed(1)} in speech`,
    );
    assert.ok(
      steps(speechFrames).filter((step) => step > 1).length >= speechFrames.length / 4,
      'the mouth moves in many speech frames',
    );
    // Silence: no more than the video codec's own noise.
    assert.ok(
      range(silentFrames) < 1.5,
      `mouth brightness varies by ${range(silentFrames).toFixed(2)} in silence`,
    );
  });
});

/** The video's frames as 8-bit luma (the photo is 322 × 360, which the engine keeps as it is). */
function decodeFrames(file: string): { width: number; height: number; frames: Uint8Array[] } {
  const [width, height] = [322, 360];
  const raw = execFileSync(
    ffmpegPath(),
    ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    { maxBuffer: 1 << 28 },
  );
  const size = width * height;
  const frames = Array.from({ length: raw.length / size }, (_frame, index) =>
    raw.subarray(index * size, (index + 1) * size),
  );
  return { width, height, frames };
}

function meanBrightness(
  frame: Uint8Array,
  width: number,
  region: { x1: number; y1: number; x2: number; y2: number },
): number {
  let sum = 0;
  let count = 0;
  for (let y = region.y1; y < region.y2; y += 1)
    for (let x = region.x1; x < region.x2; x += 1) {
      sum += frame[y * width + x];
      count += 1;
    }
  return sum / count;
}
