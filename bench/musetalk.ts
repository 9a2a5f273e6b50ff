/**
 * End-to-end lip-sync on synthetic MuseTalk models and a real face photo: frames per second of each
 * stage and seconds of work per second of video.
 *   npm run bench -- musetalk [--seconds 8]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeAvatarImage } from '../src/engines/musetalk-onnx/image-input.ts';
import { MuseTalkRuntime } from '../src/engines/musetalk-onnx/musetalk-runtime.ts';
import { prepareAvatar } from '../src/engines/musetalk-onnx/prepare-avatar.ts';
import { photoRenderAvatar } from '../src/engines/musetalk-onnx/render-avatar.ts';
import { renderVideo } from '../src/engines/musetalk-onnx/render-video.ts';
import { writeSyntheticMuseTalkModel } from '../src/models/synth-musetalk.ts';
import { singleFacePhoto } from '../test/support/face-photos.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' } } });
const seconds = Number(values.seconds);
const directory = mkdtempSync(path.join(tmpdir(), 'bench-musetalk-'));
await writeSyntheticMuseTalkModel(directory, { dtype: 'float32', size: 'tiny' });
const runtime = await MuseTalkRuntime.load(directory, { device: { kind: 'cpu' }, threads: 0 }, 'float32');
const image = await decodeAvatarImage(await singleFacePhoto(2), {
  maxBytes: 1e8,
  maxPixels: 1e8,
  maxSide: 512,
});
let startedAt = performance.now();
const avatar = await prepareAvatar(image, runtime);
const prepareMs = performance.now() - startedAt;
const speech = {
  samples: Float32Array.from(
    { length: 24000 * seconds },
    (_value, index) => 0.3 * Math.sin(index / 8) * Math.abs(Math.sin(index / 3000)),
  ),
  sampleRate: 24000,
};
startedAt = performance.now();
const { timings } = await renderVideo(runtime, photoRenderAvatar(avatar), speech, {
  batchSize: 8,
  cancelled: () => false,
  onProgress: () => {},
});
const total = (performance.now() - startedAt) / 1000;
const fps = (ms: number) => (timings.frames / (ms / 1000)).toFixed(0);
console.log(
  `${image.width} × ${image.height}, ${seconds} s of speech, ${timings.frames} frames (synthetic models): avatar preparation ${prepareMs.toFixed(0)} ms (once per photo); ` +
    `features ${fps(timings.featuresMs)} frames/s, UNet + VAE ${fps(timings.neuralMs)} frames/s, blending ${fps(timings.blendMs)} frames/s; ` +
    `end to end ${(total / seconds).toFixed(2)} s of work per second of video`,
);
