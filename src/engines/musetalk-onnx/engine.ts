import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { modelFingerprint } from '../../models/model-fingerprint.ts';
import { verifyInstalledModel } from '../../models/verify-model-files.ts';
import { installHint } from '../../models/install-hint.ts';
import type { Logger } from 'pino';
import { modelDirectory, type Config } from '../../config.ts';
import {
  CancelledError,
  EngineFailedError,
  InvalidInputError,
  ModelNotAvailableError,
  ServerError,
} from '../../errors.ts';
import { chooseProvider, type ProviderChoice } from '../../onnx/session-options.ts';
import { workerScript } from '../../onnx/start-worker.ts';
import { crashError, WorkerPool } from '../../onnx/worker-pool.ts';
import { AsyncQueue } from '../../onnx/async-queue.ts';
import { ffmpegChoice } from '../../media/ffmpeg.ts';
import type {
  AvatarSource,
  LipsyncEngine,
  RenderRequest,
  RenderStreamPart,
} from '../interfaces/lipsync-engine.ts';
import type { EngineHealth } from '../interfaces/tts-engine.ts';
import type { AvatarFile } from './avatar-preparer.ts';
import { checkAvatarVideo, type VideoAvatarLimits } from './video-input.ts';
import type { MuseTalkWorkerConfiguration, MuseTalkWorkerResponse } from './worker.ts';

const IMAGE_FILE = /\.(jpe?g|png)$/i;
const VIDEO_FILE = /\.(mp4|mov|webm)$/i;

/** An avatar file in VIDEO_AVATAR_DIR is a photo or a video by its extension. */
function mediaOfFile(name: string): AvatarFile['media'] {
  return VIDEO_FILE.test(name) ? 'video' : 'image';
}

/** Messages a worker sends while a job runs (progress, the stream's first segment), not its answer. */
function isReport(message: MuseTalkWorkerResponse): boolean {
  return message.type === 'progress' || message.type === 'playable';
}

/** MUSETALK_MODEL_DIR, else the seed's NEWAVATA_PATH when it holds our layout, else MODEL_DIR/musetalk. */
export function museTalkDirectory(config: Config): string {
  if (
    !config.MUSETALK_MODEL_DIR &&
    config.NEWAVATA_PATH &&
    existsSync(path.join(config.NEWAVATA_PATH, 'manifest.json'))
  ) {
    return path.resolve(config.NEWAVATA_PATH);
  }
  return modelDirectory(config, 'musetalk');
}

/**
 * The embedded lip-sync engine (MuseTalk v1.5 on ONNX Runtime). Everything heavy runs in a worker
 * thread: face detection, avatar preparation (photos and videos, cached by content), Whisper
 * features, UNet + VAE, blending and ffmpeg; the main thread passes the avatar file and speech in and
 * the MP4 out.
 */
export class MuseTalkEngine implements LipsyncEngine {
  readonly name = 'musetalk-onnx';
  readonly drivenBy = 'audio' as const;
  private pool: WorkerPool<MuseTalkWorkerResponse> | undefined;
  private starting: Promise<WorkerPool<MuseTalkWorkerResponse>> | undefined;
  private fingerprint: Promise<string> | undefined;
  private readonly provider: ProviderChoice;

  constructor(
    private readonly config: Config,
    private readonly logger?: Logger,
  ) {
    this.provider = chooseProvider(config.TTS_DEVICE, {
      threads: config.TTS_THREADS,
      tensorRt: config.TTS_TENSORRT,
      niceness: config.WORKER_NICENESS,
      spinning: config.TTS_THREAD_SPINNING,
    });
  }

  private get directory(): string {
    return museTalkDirectory(this.config);
  }

  private installed(): boolean {
    return existsSync(path.join(this.directory, 'manifest.json'));
  }

  async health(): Promise<EngineHealth> {
    return this.installed()
      ? { ok: true }
      : {
          ok: false,
          message: `the lip-sync model is not installed: ${installHint('musetalk', this.directory)}`,
        };
  }

  async listAvatars(): Promise<string[]> {
    const entries = await readdir(this.config.VIDEO_AVATAR_DIR).catch(() => []);
    return entries.filter((name) => IMAGE_FILE.test(name) || VIDEO_FILE.test(name)).sort();
  }

  private dtype(): 'float16' | 'float32' {
    return this.config.TTS_DTYPE === 'float16' ? 'float16' : 'float32';
  }

  /**
   * The model is installed and its files are what its manifest says (a truncated or damaged weight
   * file would load and render garbage); the hashes are remembered, so a restart reads nothing again.
   */
  private async verifyModel(): Promise<void> {
    if (!this.installed()) {
      throw new ModelNotAvailableError(
        `the lip-sync model is not installed: ${installHint('musetalk', this.directory)}`,
      );
    }
    try {
      await verifyInstalledModel(this.directory, this.dtype());
    } catch (error) {
      throw new ModelNotAvailableError(
        `the lip-sync model cannot be used: ${(error as Error).message}. Run \`npm run cli -- models pull musetalk\` again to replace it.`,
        { cause: error },
      );
    }
  }

  private start(): Promise<WorkerPool<MuseTalkWorkerResponse>> {
    if (this.pool) return Promise.resolve(this.pool);
    this.starting ??= (async () => {
      const workerData: MuseTalkWorkerConfiguration = {
        directory: this.directory,
        provider: this.provider,
        dtype: this.dtype(),
        cacheDirectory: path.resolve(this.config.CACHE_DIR, 'avatars'),
        cacheMaxBytes: this.config.AVATAR_CACHE_DISK_MB * 1024 * 1024,
        limits: {
          maxBytes: this.config.VIDEO_MAX_UPLOAD_BYTES,
          maxPixels: this.config.VIDEO_MAX_PIXELS,
          maxSide: this.config.VIDEO_MAX_SIDE,
        },
        videoLimits: this.videoLimits,
        batchSize: this.config.VIDEO_BATCH_SIZE,
        ffmpeg: ffmpegChoice(),
      };
      await this.verifyModel();
      const pool = new WorkerPool<MuseTalkWorkerResponse>({
        size: 1,
        script: workerScript('./worker', import.meta.url),
        workerData,
        name: 'lip-sync',
        logger: this.logger,
      });
      try {
        await pool.start();
      } catch (error) {
        await pool.close();
        throw new ModelNotAvailableError(
          `the lip-sync model could not be loaded from ${this.directory}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      this.pool = pool;
      return pool;
    })().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private get videoLimits(): VideoAvatarLimits {
    return {
      maxBytes: this.config.VIDEO_AVATAR_MAX_BYTES,
      maxSeconds: this.config.VIDEO_AVATAR_MAX_SECONDS,
      maxFrames: this.config.VIDEO_AVATAR_MAX_FRAMES,
      maxPixels: this.config.VIDEO_AVATAR_MAX_PIXELS,
      maxSide: this.config.VIDEO_MAX_SIDE,
    };
  }

  /** An uploaded video over the limits is a 4xx when the request arrives (read from its header only). */
  async checkAvatar(avatar: AvatarSource): Promise<void> {
    if (avatar.kind === 'video') await checkAvatarVideo(avatar.bytes, this.videoLimits);
  }

  /**
   * The model files, the variant, the batch size (batched kernels may round differently) and the
   * avatar's content: a photo's or a video's bytes, every frame of which shows in the render.
   */
  async renderIdentity(avatar: AvatarSource): Promise<string | undefined> {
    // The files, not the workers: a request answered from the render cache starts no model.
    if (!this.fingerprint) {
      await this.verifyModel();
      this.fingerprint ??= modelFingerprint(this.directory, this.dtype());
    }
    const { bytes, name, media } = await this.avatarBytes(avatar);
    return createHash('sha256')
      .update(
        `${await this.fingerprint}\u0000${this.config.VIDEO_BATCH_SIZE}\u0000${name}\u0000${media}\u0000`,
      )
      .update(bytes)
      .digest('hex');
  }

  /** Prepares every avatar in VIDEO_AVATAR_DIR in the background, so their first request is fast. */
  async prepareAvatarDirectory(): Promise<void> {
    if (!this.installed()) return;
    const pool = await this.start();
    for (const name of await this.listAvatars()) {
      try {
        const bytes = await readFile(path.join(this.config.VIDEO_AVATAR_DIR, name));
        const media = mediaOfFile(name);
        // A video is face detection and encoding per frame: far longer than a photo.
        const timeoutMs = media === 'video' ? 1_800_000 : 120_000;
        const answer = await this.finalMessage(
          this.jobMessages(
            pool,
            { type: 'prepare', avatar: { bytes, media } },
            AbortSignal.timeout(timeoutMs),
          ),
        );
        if (answer.type === 'error') throw new Error(answer.message);
        this.logger?.info(`prepared avatar ${name}`);
      } catch (error) {
        this.logger?.warn(`could not prepare avatar ${name}: ${(error as Error).message}`);
      }
    }
  }

  /** A named avatar is a file directly inside VIDEO_AVATAR_DIR (no paths, no links out of it). */
  private async avatarBytes(
    avatar: AvatarSource,
  ): Promise<{ bytes: Buffer; name: string; media: AvatarFile['media'] }> {
    if (avatar.kind !== 'named')
      return { bytes: avatar.bytes, name: avatar.fileName ?? 'upload', media: avatar.kind };
    const available = await this.listAvatars();
    if (!available.includes(avatar.name)) {
      throw new InvalidInputError(
        `avatar ${JSON.stringify(avatar.name)} is not in VIDEO_AVATAR_DIR: choose one of /video/avatars or upload avatar_image or avatar_video`,
        {
          statusCode: 404,
          code: 'unknown_avatar',
        },
      );
    }
    const root = await realpath(this.config.VIDEO_AVATAR_DIR);
    const file = await realpath(path.join(root, avatar.name));
    if (path.dirname(file) !== root)
      throw new InvalidInputError(`avatar ${avatar.name} points outside VIDEO_AVATAR_DIR`, {
        code: 'unknown_avatar',
      });
    return { bytes: await readFile(file), name: avatar.name, media: mediaOfFile(avatar.name) };
  }

  /** Runs one job on a worker and yields its messages as they arrive, ending with the final answer. */
  private async *jobMessages(
    pool: WorkerPool<MuseTalkWorkerResponse>,
    request:
      | { type: 'prepare'; avatar: AvatarFile }
      | {
          type: 'render';
          avatar: AvatarFile;
          speech: { samples: Float32Array; sampleRate: number };
          cancelFlag: Int32Array;
          stream?: { directory: string };
        },
    signal: AbortSignal,
  ): AsyncGenerator<MuseTalkWorkerResponse> {
    const queue = new AsyncQueue<MuseTalkWorkerResponse>();
    const release = await pool.job(signal, (worker, jobId) => worker.postMessage({ ...request, jobId }), {
      onMessage: (message) => queue.push(message),
      onCrash: (error) => queue.fail(crashError('lip-sync', error)),
    });
    let answered = false;
    try {
      for (;;) {
        const message = await queue.next();
        answered = !isReport(message);
        yield message;
        if (answered) return;
      }
    } finally {
      if (answered) release();
      else {
        // The caller stopped early (a cancelled request): the worker stays this job's until it answers,
        // so that no other job is posted to it meanwhile.
        void queue
          .drainUntil((message) => !isReport(message), 120_000)
          .catch(() => {})
          .finally(release);
      }
    }
  }

  /** The job's final answer; progress reports are dropped. */
  private async finalMessage(
    messages: AsyncIterable<MuseTalkWorkerResponse>,
  ): Promise<MuseTalkWorkerResponse> {
    let last: MuseTalkWorkerResponse | undefined;
    for await (const message of messages) last = message;
    if (!last) throw new EngineFailedError('the lip-sync worker gave no answer');
    return last;
  }

  async *render(request: RenderRequest, signal: AbortSignal): AsyncGenerator<RenderStreamPart> {
    if (!request.speech) throw new EngineFailedError('the embedded lip-sync engine needs the speech audio');
    const pool = await this.start();
    const { bytes, name, media } = await this.avatarBytes(request.avatar);
    const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
    const onAbort = () => Atomics.store(cancelFlag, 0, 1);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      let result: MuseTalkWorkerResponse | undefined;
      const job = {
        type: 'render' as const,
        avatar: { bytes, media },
        speech: request.speech,
        cancelFlag,
        ...(request.stream ? { stream: { directory: request.stream.directory } } : {}),
      };
      // Progress goes out as the worker reports it, so a client sees each stage while it runs.
      for await (const message of this.jobMessages(pool, job, signal)) {
        if (message.type === 'progress')
          yield { type: 'render-progress', stage: message.stage, fraction: message.fraction };
        else if (message.type === 'playable') yield { type: 'render-playable', playlist: message.playlist };
        else result = message;
      }
      if (!result) throw new EngineFailedError('the lip-sync worker gave no answer');
      if (result.type === 'error') {
        if (signal.aborted) throw new CancelledError();
        if (result.statusCode < 500)
          throw new InvalidInputError(result.message, {
            statusCode: result.statusCode as 422,
            code: result.code,
          });
        throw new EngineFailedError(`lip-sync failed: ${result.message}`);
      }
      if (result.type !== 'video')
        throw new EngineFailedError(`unexpected lip-sync worker answer ${result.type}`);
      yield {
        type: 'render-end',
        mp4: Buffer.from(result.mp4.buffer, result.mp4.byteOffset, result.mp4.byteLength),
        avatarUsed: name,
        notices: result.notices,
        timings: result.timings,
      };
    } catch (error) {
      if (error instanceof ServerError) throw error;
      throw new EngineFailedError(String(error), { cause: error });
    } finally {
      signal.removeEventListener('abort', onAbort);
      // A consumer that stopped reading wants no more of this video: the worker stops at its next batch.
      Atomics.store(cancelFlag, 0, 1);
    }
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

export async function createMuseTalkEngine(config: Config, logger?: Logger): Promise<MuseTalkEngine> {
  const engine = new MuseTalkEngine(config, logger);
  void engine
    .prepareAvatarDirectory()
    .catch((error: unknown) => logger?.warn(`avatar preparation stopped: ${(error as Error).message}`));
  return engine;
}
