/**
 * The non-neural video stages at 512 × 512: blending generated faces into the photo, encoding with
 * ffmpeg, and both together, in frames per second.
 *   npm run bench -- compose [--frames 250]
 */
import { parseArgs } from 'node:util';
import { FaceBlender } from '../src/engines/musetalk-onnx/blend.ts';
import { createVideoEncoder } from '../src/media/video-encoder.ts';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '250' } } });
const frames = Number(values.frames);
const size = 512;
const photo = Uint8Array.from({ length: size * size * 3 }, (_value, index) => (index * 7) % 251);
const box = { x1: 156, y1: 196, x2: 356, y2: 436 };
const alpha = Uint8Array.from({ length: 200 * 240 }, (_value, index) =>
  Math.floor(index / 200) > 100 ? 200 : 0,
);
const blender = new FaceBlender(photo, size, size, box, alpha);
const faces = Array.from({ length: 8 }, (_value, face) =>
  Uint8Array.from({ length: 256 * 256 * 3 }, (_v, index) => (index + face * 31) % 256),
);
const speech = {
  samples: Float32Array.from(
    { length: Math.round((frames / 25) * 24000) },
    (_value, index) => 0.2 * Math.sin(index / 10),
  ),
  sampleRate: 24000,
};

let startedAt = performance.now();
const output = new Uint8Array(photo.length);
for (let frame = 0; frame < frames; frame += 1) blender.blend(faces[frame % 8], output);
const blendFps = frames / ((performance.now() - startedAt) / 1000);

startedAt = performance.now();
let encoder = await createVideoEncoder({ width: size, height: size, speech });
for (let frame = 0; frame < frames; frame += 1) await encoder.writeFrame(photo);
await encoder.finish();
const encodeFps = frames / ((performance.now() - startedAt) / 1000);

startedAt = performance.now();
encoder = await createVideoEncoder({ width: size, height: size, speech });
for (let frame = 0; frame < frames; frame += 1) await encoder.writeFrame(blender.blend(faces[frame % 8]));
await encoder.finish();
const bothFps = frames / ((performance.now() - startedAt) / 1000);
console.log(
  `512 × 512, ${frames} frames: blending ${blendFps.toFixed(0)} frames/s, encoding ${encodeFps.toFixed(0)} frames/s, blending + encoding ${bothFps.toFixed(0)} frames/s`,
);
