import { parentPort, workerData } from 'node:worker_threads';
import type { ProviderChoice } from '../../onnx/session-options.ts';
import { ServerError } from '../../errors.ts';
import { AvatarPreparer, type AvatarFile } from './avatar-preparer.ts';
import { MuseTalkRuntime } from './musetalk-runtime.ts';
import type { VideoAvatarLimits } from './video-input.ts';
import { renderVideo } from './render-video.ts';
import { STREAM_PLAYLIST } from '../../media/video-encoder.ts';
import { useFfmpeg, type FfmpegSource } from '../../media/ffmpeg.ts';
import { WorkerJobs } from '../../onnx/worker-jobs.ts';

export interface MuseTalkWorkerConfiguration {
  directory: string;
  provider: ProviderChoice;
  dtype: 'float32' | 'float16';
  cacheDirectory: string;
  /** Budget of the prepared-avatar files on disk. */
  cacheMaxBytes: number;
  limits: { maxBytes: number; maxPixels: number; maxSide: number };
  videoLimits: VideoAvatarLimits;
  batchSize: number;
  /** The ffmpeg chosen at startup (a worker thread does not share the main thread's choice). */
  ffmpeg?: { source: FfmpegSource; path: string; version: string };
}

export type MuseTalkWorkerRequest =
  | { type: 'prepare'; jobId: number; avatar: AvatarFile }
  | {
      type: 'render';
      jobId: number;
      avatar: AvatarFile;
      speech: { samples: Float32Array; sampleRate: number };
      cancelFlag: Int32Array;
      /** Folder for the live HLS stream (RenderRequest.stream). */
      stream?: { directory: string };
    }
  | { type: 'shutdown' };

export type MuseTalkWorkerResponse =
  | { type: 'progress'; jobId: number; stage: string; fraction: number }
  | { type: 'playable'; jobId: number; playlist: string }
  | { type: 'prepared'; jobId: number; hash: string }
  | {
      type: 'video';
      jobId: number;
      mp4: Uint8Array;
      timings: Record<string, number>;
      /** About the avatar, e.g. video frames without a face. */
      notices: string[];
    }
  | { type: 'error'; jobId: number; message: string; statusCode: number; code: string };

/** The lip-sync worker: face detection, ONNX sessions, blending and ffmpeg all run off the main thread. */
const configuration = workerData as MuseTalkWorkerConfiguration;
const port = parentPort!;
// Without it the worker would encode with the bundled 2018 build, whatever startup chose.
if (configuration.ffmpeg) useFfmpeg(configuration.ffmpeg);
const send = (message: MuseTalkWorkerResponse, transfer: ArrayBuffer[] = []) =>
  port.postMessage(message, transfer);

let runtime: MuseTalkRuntime;
try {
  runtime = await MuseTalkRuntime.load(configuration.directory, configuration.provider, configuration.dtype);
  port.postMessage({ type: 'ready' });
} catch (error) {
  port.postMessage({ type: 'load-failed', message: (error as Error).message });
  process.exit(1);
}
const avatars = new AvatarPreparer(runtime, {
  cacheDirectory: configuration.cacheDirectory,
  cacheMaxBytes: configuration.cacheMaxBytes,
  imageLimits: configuration.limits,
  videoLimits: configuration.videoLimits,
});

const jobs = new WorkerJobs();

port.on('message', (message: MuseTalkWorkerRequest) => {
  if (message.type === 'shutdown') return void jobs.stop();
  jobs.run(async () => {
    try {
      if (message.type === 'prepare') {
        const opened = await avatars.open(message.avatar);
        await opened.close();
        send({ type: 'prepared', jobId: message.jobId, hash: opened.hash });
        return;
      }
      const progress = (stage: string, fraction: number) =>
        send({ type: 'progress', jobId: message.jobId, stage, fraction });
      progress('avatar', 0);
      const opened = await avatars.open(message.avatar, (fraction) => progress('avatar', fraction));
      try {
        const { mp4, timings } = await renderVideo(runtime, opened.avatar, message.speech, {
          batchSize: configuration.batchSize,
          cancelled: () => jobs.stopping || Atomics.load(message.cancelFlag, 0) !== 0,
          onProgress: progress,
          stream: message.stream && {
            directory: message.stream.directory,
            onPlayable: () => send({ type: 'playable', jobId: message.jobId, playlist: STREAM_PLAYLIST }),
          },
        });
        const bytes = new Uint8Array(mp4.buffer, mp4.byteOffset, mp4.byteLength).slice();
        const notices = opened.avatar.notices;
        send({ type: 'video', jobId: message.jobId, mp4: bytes, timings, notices }, [bytes.buffer]);
      } finally {
        await opened.close();
      }
    } catch (error) {
      const known = error instanceof ServerError;
      send({
        type: 'error',
        jobId: message.jobId,
        message: error instanceof Error ? error.message : String(error),
        statusCode: known ? error.statusCode : 500,
        code: known ? error.code : 'engine_failed',
      });
    }
  });
});
