import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeWav } from '../../../src/audio/wav.ts';
import { FaceBlender } from '../../../src/engines/musetalk-onnx/blend.ts';
import { blendingSquare, museTalkFaceBox, toNormalizedChw } from '../../../src/engines/musetalk-onnx/crop.ts';
import { MuseTalkRuntime } from '../../../src/engines/musetalk-onnx/musetalk-runtime.ts';
import { jawMask } from '../../../src/engines/musetalk-onnx/parsing-mask.ts';
import { blendingAlpha, faceCrop, parserInput } from '../../../src/engines/musetalk-onnx/prepare-avatar.ts';
import { faceBytes, videoFrameCount } from '../../../src/engines/musetalk-onnx/render-video.ts';
import { audioWindows, whisperLogMel } from '../../../src/engines/musetalk-onnx/whisper-features.ts';
import { chooseProvider } from '../../../src/onnx/session-options.ts';
import {
  compareBytes,
  MUSETALK_FIXTURES,
  readFixturePhoto,
  readGoldenArray,
  readGoldenImage,
  readMuseTalkGoldens,
  type MuseTalkGoldens,
} from '../../support/official-musetalk.ts';

/**
 * The lip-sync pipeline stage by stage against the official MuseTalk v1.5 functions, on modules built at
 * random with the official classes and on real photos and speech (test/fixtures/musetalk-official).
 * Given the same 68 landmarks, every image operation must give the official pixels exactly; the
 * neural graphs (our export of the same modules) must match within float error.
 */
describe('the lip-sync engine against the official MuseTalk code', () => {
  let goldens: MuseTalkGoldens;
  let runtime: MuseTalkRuntime;
  const faces = JSON.parse(readFileSync(path.join(MUSETALK_FIXTURES, 'faces.json'), 'utf8')) as Record<
    string,
    { box: { x: number; y: number; width: number; height: number }; landmarks: [number, number][] }
  >;

  before(async () => {
    goldens = await readMuseTalkGoldens();
    runtime = await MuseTalkRuntime.load(
      path.join(MUSETALK_FIXTURES, 'model'),
      chooseProvider('cpu', { threads: 1 }),
      'float32',
      ['unet', 'vae_encoder', 'vae_decoder'],
    );
  });
  after(async () => runtime?.release());

  it("computes Whisper's log-mel of the speech as the official feature extractor", async () => {
    const speech = decodeWav(readFileSync(path.join(MUSETALK_FIXTURES, 'speech-16k.wav'))).samples;
    assert.equal(speech.length, goldens.audio.samples);
    const ours = whisperLogMel(speech);
    const official = await readGoldenArray(goldens.audio.mel);
    const [mels, frames] = goldens.audio.mel.shape;
    let largest = 0;
    for (let mel = 0; mel < mels; mel += 1) {
      for (let frame = 0; frame < 3000; frame += 1) {
        const expected = frame < frames ? official[mel * frames + frame] : goldens.audio.melTail!;
        largest = Math.max(largest, Math.abs(ours[mel * 3000 + frame] - expected));
      }
    }
    assert.ok(largest < 2e-4, `log-mel differs by ${largest}`);
  });

  it('makes as many video frames, and the same audio windows, as get_whisper_chunk', () => {
    const samples = goldens.audio.samples;
    const videoFrames = videoFrameCount(samples);
    assert.equal(videoFrames, goldens.audio.videoFrames, 'floor(seconds × 25)');
    // Hidden states that hold their own (whisper frame, state): the windows show where each row came from.
    const whisperFrames = Math.floor((samples / 16000) * 50);
    const states = 5;
    const hidden = new Float32Array(1500 * states * 384);
    for (let frame = 0; frame < 1500; frame += 1)
      for (let state = 0; state < states; state += 1)
        hidden.fill(
          (frame + 1) * 8 + state,
          (frame * states + state) * 384,
          (frame * states + state + 1) * 384,
        );
    const windows = audioWindows(hidden, whisperFrames, states, 384, videoFrames);
    const sources = Array.from({ length: videoFrames }, (_frame, frame) =>
      Array.from({ length: 50 }, (_row, row) => {
        const value = windows[(frame * 50 + row) * 384];
        return value === 0 ? null : [Math.floor(value / 8) - 1, value % 8];
      }),
    );
    assert.deepEqual(sources, goldens.audio.windowSources);
  });

  for (const index of [0, 1]) {
    it(`prepares the avatar and pastes a face exactly as the official code (photo ${index + 1})`, async () => {
      const golden = goldens.faces[index];
      const photo = await readFixturePhoto(golden.photo);
      const face = faces[golden.photo];
      const box = museTalkFaceBox({ ...face, score: 1 }, photo.width, photo.height);
      assert.deepEqual([box.x1, box.y1, box.x2, box.y2], golden.box, 'face box (landmark 29 rule, +10 px)');
      const square = blendingSquare(box);
      assert.deepEqual([square.x1, square.y1, square.x2, square.y2], golden.square, 'blending square');
      assert.deepEqual(compareBytes(faceCrop(photo, box), await readGoldenImage(golden.crop)), {
        largest: 0,
        differing: 0,
      });
      assert.deepEqual(compareBytes(parserInput(photo, square), await readGoldenImage(golden.parserInput)), {
        largest: 0,
        differing: 0,
      });
      const jaw = jawMask(await readGoldenImage(golden.classes));
      assert.deepEqual(compareBytes(jaw, await readGoldenImage(golden.jaw)), { largest: 0, differing: 0 });
      // The feathered mask over the face box equals the official blur's output there.
      const alpha = blendingAlpha(jaw, box, square);
      const blurred = await readGoldenImage(golden.blurOutput);
      const size = square.x2 - square.x1;
      const width = box.x2 - box.x1;
      const officialAlpha = Uint8Array.from(alpha, (_value, at) => {
        const x = at % width;
        const y = Math.floor(at / width);
        return blurred[(y + box.y1 - square.y1) * size + x + box.x1 - square.x1];
      });
      assert.deepEqual(compareBytes(alpha, officialAlpha), { largest: 0, differing: 0 });
      // Paste-back of the official generated face: the whole frame, pixel for pixel.
      const blender = new FaceBlender(photo.rgb, photo.width, photo.height, box, alpha);
      const frame = blender.blend(await readGoldenImage(golden.decoded));
      assert.deepEqual(compareBytes(frame, await readGoldenImage(golden.combined)), {
        largest: 0,
        differing: 0,
      });
    });
  }

  it('runs the VAE encoder, one UNet step and the VAE decoder as the official modules', async () => {
    for (const golden of goldens.faces) {
      const crop = await readGoldenImage(golden.crop);
      const batch = new Float32Array(2 * 3 * 256 * 256);
      batch.set(toNormalizedChw(crop, 256, true), 0);
      batch.set(toNormalizedChw(crop, 256, false), 3 * 256 * 256);
      const latents = await runtime.encode(batch, 2);
      const official = await readGoldenArray(golden.latents);
      // Ours is [masked; reference] as two batch rows, the official [1, 8, 32, 32]: the same order.
      assertClose(latents, official, 1e-4, `${golden.photo}: VAE latents (posterior mean × 0.18215)`);
      const window = await readGoldenArray(goldens.audio.windows[String(golden.windowFrame)]);
      const predicted = await runtime.predict(official, window, 1);
      const officialPredicted = await readGoldenArray(golden.predicted);
      assertClose(predicted, officialPredicted, 1e-4, `${golden.photo}: UNet step`);
      const decoded = faceBytes(await runtime.decode(officialPredicted, 1), 0);
      const { largest, differing } = compareBytes(decoded, await readGoldenImage(golden.decoded));
      assert.ok(
        largest <= 1 && differing < 100,
        `${golden.photo}: decoded face off by ${largest} on ${differing} values`,
      );
    }
  });
});

function assertClose(ours: Float32Array, official: Float32Array, tolerance: number, label: string): void {
  assert.equal(ours.length, official.length, label);
  let scale = 0;
  let largest = 0;
  for (let index = 0; index < official.length; index += 1) {
    scale = Math.max(scale, Math.abs(official[index]));
    largest = Math.max(largest, Math.abs(ours[index] - official[index]));
  }
  assert.ok(largest <= tolerance * Math.max(scale, 1e-3), `${label}: differs by ${largest} (scale ${scale})`);
}
