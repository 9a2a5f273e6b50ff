import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeWav } from '../audio/wav.ts';
import { CancelledError, EngineFailedError } from '../errors.ts';
import { spawnFfmpeg } from './ffmpeg.ts';

/**
 * Encoding settings: H.264 (libx264) at CRF 23 with the veryfast preset — near-transparent for a
 * talking head and fast enough for two cores — yuv420p so every player shows it, AAC at 128 kb/s,
 * 25 fps, and +faststart so the MP4 starts playing before it has fully downloaded.
 */
export const VIDEO_ENCODING = {
  crf: 23,
  preset: 'veryfast',
  pixelFormat: 'yuv420p',
  audioBitrate: '128k',
  fps: 25,
} as const;

export interface VideoEncoder {
  /** Queues one RGB frame (width × height × 3); resolves when ffmpeg has taken it (back-pressure). */
  writeFrame(rgb: Uint8Array): Promise<void>;
  /** Ends the video and returns the MP4. */
  finish(): Promise<Buffer>;
  abort(): void;
}

/**
 * Streams raw RGB frames into one ffmpeg process (no image file per frame) and muxes the speech in.
 * The audio goes through a temporary WAV; the MP4 is written to a temporary file because +faststart
 * rewrites the file's start, then read back. Width and height must be even (yuv420p).
 */
export async function createVideoEncoder(options: {
  width: number;
  height: number;
  speech: { samples: Float32Array; sampleRate: number };
  signal?: AbortSignal;
}): Promise<VideoEncoder> {
  const directory = await mkdtemp(path.join(tmpdir(), 'video-'));
  const audioFile = path.join(directory, 'speech.wav');
  const videoFile = path.join(directory, 'output.mp4');
  await writeFile(audioFile, encodeWav(options.speech.samples, options.speech.sampleRate));
  const { crf, preset, pixelFormat, audioBitrate, fps } = VIDEO_ENCODING;
  const { child, stderrTail } = spawnFfmpeg([
    '-y',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${options.width}x${options.height}`,
    '-r',
    String(fps),
    '-i',
    'pipe:0',
    '-i',
    audioFile,
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-c:v',
    'libx264',
    '-preset',
    preset,
    '-crf',
    String(crf),
    '-pix_fmt',
    pixelFormat,
    '-c:a',
    'aac',
    '-b:a',
    audioBitrate,
    '-movflags',
    '+faststart',
    videoFile,
  ]);
  child.stdout.resume(); // the video goes to a file; nothing is read from stdout
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const cleanUp = () => rm(directory, { recursive: true, force: true });
  const onAbort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    writeFrame(rgb) {
      if (options.signal?.aborted) return Promise.reject(new CancelledError());
      return new Promise((resolve, reject) => {
        const written = child.stdin.write(rgb, (error) =>
          error
            ? reject(new EngineFailedError(`ffmpeg stopped taking frames: ${stderrTail() || error.message}`))
            : undefined,
        );
        if (written) resolve();
        else child.stdin.once('drain', () => resolve());
      });
    },
    async finish() {
      child.stdin.end();
      const code = await exited;
      options.signal?.removeEventListener('abort', onAbort);
      try {
        if (options.signal?.aborted) throw new CancelledError();
        if (code !== 0)
          throw new EngineFailedError(`ffmpeg could not encode the video (exit ${code}): ${stderrTail()}`);
        return await readFile(videoFile);
      } finally {
        await cleanUp();
      }
    },
    abort() {
      child.kill('SIGKILL');
      void exited.then(cleanUp);
    },
  };
}
