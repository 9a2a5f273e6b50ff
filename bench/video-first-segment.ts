/**
 * How soon a client can start watching a talking-head video: renders synthetic MuseTalk models on a
 * real face photo with the live HLS stream on, and prints the time to the first playable segment
 * next to the time to render the first second of video and the whole render; then the same render
 * without the stream, to show what writing the stream costs.
 *   npm run bench -- video-first-segment [--seconds 8] [--sizes tiny,real] [--runs 2]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeAvatarImage } from '../src/engines/musetalk-onnx/image-input.ts';
import { MuseTalkRuntime } from '../src/engines/musetalk-onnx/musetalk-runtime.ts';
import { prepareAvatar } from '../src/engines/musetalk-onnx/prepare-avatar.ts';
import { photoRenderAvatar } from '../src/engines/musetalk-onnx/render-avatar.ts';
import { renderVideo, videoFrameCount } from '../src/engines/musetalk-onnx/render-video.ts';
import { setUpFfmpeg } from '../src/media/ffmpeg-choice.ts';
import { VIDEO_ENCODING } from '../src/media/video-encoder.ts';
import { writeSyntheticMuseTalkModel } from '../src/models/synth-musetalk.ts';
import { singleFacePhoto } from '../test/support/face-photos.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    sizes: { type: 'string', default: 'tiny,real' },
    runs: { type: 'string', default: '2' },
  },
});
const seconds = Number(values.seconds);
const runs = Number(values.runs);
const sizes = values.sizes.split(',') as ('tiny' | 'real')[];
// The encoder as the server runs it: the system ffmpeg where it is recent enough.
const ffmpeg = await setUpFfmpeg(
  { FFMPEG_PATH: '', ENABLE_VIDEO: true, USE_NEWAVATA_API: false },
  { info: () => {}, warn: () => {} },
);
const work = mkdtempSync(path.join(tmpdir(), 'bench-first-segment-'));
const speech = {
  samples: Float32Array.from(
    { length: 24000 * seconds },
    (_value, index) => 0.3 * Math.sin(index / 8) * Math.abs(Math.sin(index / 3000)),
  ),
  sampleRate: 24000,
};
const image = await decodeAvatarImage(await singleFacePhoto(2), {
  maxBytes: 1e8,
  maxPixels: 1e8,
  maxSide: 512,
});
const mean = (list: number[]) => list.reduce((sum, value) => sum + value, 0) / list.length;
const format = (list: number[]) => `${(mean(list) / 1000).toFixed(2)} s`;

try {
  for (const size of sizes) {
    const directory = path.join(work, size);
    await writeSyntheticMuseTalkModel(directory, { dtype: 'float32', size });
    const runtime = await MuseTalkRuntime.load(directory, { device: { kind: 'cpu' }, threads: 0 }, 'float32');
    const avatar = await prepareAvatar(image, runtime);
    const frames = videoFrameCount(Math.round((speech.samples.length * 16000) / speech.sampleRate));
    const render = async (stream: string | undefined) => {
      const startedAt = performance.now();
      let playableAt = Number.NaN;
      let firstSecondAt = Number.NaN;
      const { mp4 } = await renderVideo(runtime, photoRenderAvatar(avatar), speech, {
        batchSize: 8,
        cancelled: () => false,
        onProgress: (stage, fraction) => {
          // Lip-sync progress is reported per batch: the first report covering a second of frames.
          if (stage === 'lipsync' && Number.isNaN(firstSecondAt) && fraction * frames >= VIDEO_ENCODING.fps)
            firstSecondAt = performance.now() - startedAt;
        },
        ...(stream
          ? { stream: { directory: stream, onPlayable: () => (playableAt = performance.now() - startedAt) } }
          : {}),
      });
      return { playableAt, firstSecondAt, total: performance.now() - startedAt, bytes: mp4.length };
    };
    await render(undefined); // warm-up: the first inference of a session is slower
    const measured = {
      playable: [] as number[],
      firstSecond: [] as number[],
      streamed: [] as number[],
      plain: [] as number[],
      bytes: { streamed: 0, plain: 0 },
    };
    // Alternating the order, so that a busy machine or a warming cache favours neither.
    for (let run = 0; run < runs; run += 1) {
      for (const withStream of run % 2 === 0 ? [true, false] : [false, true]) {
        const stream = path.join(work, `stream-${size}-${run}`);
        mkdirSync(stream, { recursive: true });
        const result = await render(withStream ? stream : undefined);
        measured.firstSecond.push(result.firstSecondAt);
        measured.bytes[withStream ? 'streamed' : 'plain'] = result.bytes;
        if (withStream) {
          measured.playable.push(result.playableAt);
          measured.streamed.push(result.total);
        } else measured.plain.push(result.total);
        rmSync(stream, { recursive: true, force: true });
      }
    }
    console.log(
      `${size} synthetic MuseTalk, ${image.width} × ${image.height}, ${seconds} s of speech (${frames} frames), ` +
        `mean of ${runs} run(s), ffmpeg ${ffmpeg.version}: first segment playable after ${format(measured.playable)}; ` +
        `first second of frames rendered after ${format(measured.firstSecond)}; whole render ${format(measured.streamed)} ` +
        `with the stream, ${format(measured.plain)} without; MP4 ${measured.bytes.streamed} bytes with the ` +
        `stream, ${measured.bytes.plain} without`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
