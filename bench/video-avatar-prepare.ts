/**
 * Preparing a video avatar on synthetic MuseTalk models: a face-api demo photo sliding across a
 * 256 × 256 window at 25 fps (test/support/face-video.ts). Prints the decode time, the first
 * preparation (face detection, VAE encoding and the blending mask for every frame) and the cached one.
 *   npm run bench -- video-avatar [--frames 38]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { detectFaces } from '../src/engines/musetalk-onnx/face-detector.ts';
import { MuseTalkRuntime } from '../src/engines/musetalk-onnx/musetalk-runtime.ts';
import { VideoAvatarCache } from '../src/engines/musetalk-onnx/video-avatar-cache.ts';
import { openAvatarVideo } from '../src/engines/musetalk-onnx/video-input.ts';
import { writeSyntheticMuseTalkModel } from '../src/models/synth-musetalk.ts';
import { faceVideo } from '../test/support/face-video.ts';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '38' } } });
const frames = Number(values.frames);
const directory = mkdtempSync(path.join(tmpdir(), 'bench-video-avatar-'));
await writeSyntheticMuseTalkModel(path.join(directory, 'model'), { dtype: 'float32', size: 'tiny' });
const runtime = await MuseTalkRuntime.load(
  path.join(directory, 'model'),
  { device: { kind: 'cpu' }, threads: 0 },
  'float32',
);
const bytes = await faceVideo({ faceFrames: frames, blackFrames: 0 });
// face-api loads its networks on first use: not part of an avatar's cost on a running server.
await detectFaces(new Uint8Array(64 * 64 * 3), 64, 64);
const limits = { maxBytes: 1e9, maxSeconds: 600, maxFrames: 15000, maxPixels: 1e8, maxSide: 720 };
let startedAt = performance.now();
const video = await openAvatarVideo(bytes, limits);
const decodeMs = performance.now() - startedAt;
const cache = () => new VideoAvatarCache({ directory: path.join(directory, 'cache'), maxBytes: 1 << 30 });
startedAt = performance.now();
const prepared = await cache().get(video, runtime);
const prepareMs = performance.now() - startedAt;
startedAt = performance.now();
await cache().get(video, runtime);
const cachedMs = performance.now() - startedAt;
await video.close();
console.log(
  `${prepared.frameCount} frames (${(prepared.frameCount / 25).toFixed(2)} s at 25 fps), ${video.width} × ${video.height}, synthetic models: ` +
    `decoding ${decodeMs.toFixed(0)} ms; preparation ${(prepareMs / 1000).toFixed(1)} s ` +
    `(${(prepareMs / prepared.frameCount).toFixed(0)} ms per frame); from the disk cache ${cachedMs.toFixed(0)} ms; ` +
    `${((prepared.latents.byteLength + prepared.alpha.byteLength) / 1e6).toFixed(1)} MB of latents and masks`,
);
