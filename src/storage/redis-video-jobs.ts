import { randomUUID } from 'node:crypto';
import { Job, Queue, UnrecoverableError, WaitingError, Worker, type JobState } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { jobNotFoundMessage, type VideoJobQueue, type VideoJobQueueHealth } from '../core/video-job-queue.ts';
import type { VideoJobState, VideoJobStatus } from '../core/video-jobs.ts';
import type { VideoJob, VideoService } from '../core/video-service.ts';
import type { KeptVideo, VideoStore } from '../core/video-store.ts';
import { REDIS_KEY_PREFIX } from './redis-connection.ts';
import {
  CancelledError,
  EngineOverloadedError,
  InvalidInputError,
  publicError,
  ServerError,
} from '../errors.ts';
import { isRandomId } from '../core/random-id.ts';

/** A job's input as queued: JSON, with an uploaded photo or video as base64. */
interface QueuedInput {
  speech: VideoJob['speech'];
  avatar:
    | { kind: 'image' | 'video'; base64: string; fileName?: string; name?: string }
    | { kind: 'named'; name: string };
  sentFields?: readonly string[];
  callbackUrl?: string;
}

/** What a job reports while it runs (BullMQ's progress). */
interface QueuedProgress {
  stage: string;
  fraction: number | null;
  at: number;
}

type JobError = NonNullable<VideoJobState['error']>;
type QueuedJob = Job<QueuedInput, KeptVideo>;

export interface RedisVideoJobsOptions {
  /** Commands (jobs' states, cancel flags); the worker and the cancel listener use copies of it. */
  redis: Redis;
  queueName: string;
  video: VideoService;
  files: VideoStore;
  /** Jobs waiting or running on all servers at once; one more is refused with 503. */
  maxUnfinished: number;
  /**
   * How long a server's hold on the job it renders lasts unless renewed (it renews it at half that);
   * a server silent this long is taken for dead, and its job is started again by another.
   */
  lockMs: number;
  notify?: (callbackUrl: URL, state: VideoJobState) => Promise<void>;
  logger?: Logger;
}

/**
 * A job that stalled (its server died or froze) more than this many times is failed rather than
 * started again: MAX_ATTEMPTS − 1, as for a restart in a single process.
 */
const MAX_STALLS = 1;
const PROGRESS_EVERY_MS = 250;

const CANCELLED: JobError = { detail: 'the job was cancelled', code: 'cancelled', status_code: 499 };

const STATUS: Record<string, VideoJobStatus> = {
  waiting: 'queued',
  delayed: 'queued',
  prioritized: 'queued',
  'waiting-children': 'queued',
  active: 'running',
  completed: 'succeeded',
  failed: 'failed',
};

/**
 * Video jobs on a BullMQ queue in Redis, shared by every server using the same REDIS_URL: any server
 * accepts, reports and cancels any job, and each runs one at a time with its own engines. A server
 * that dies mid-render stops renewing its lock, and another takes the job over; one that shuts down
 * puts its job back at once. Results are kept for VIDEO_OUTPUT_KEEP_S, their MP4 in Redis too.
 */
export class RedisVideoJobs implements VideoJobQueue {
  private readonly queue: Queue<QueuedInput, KeptVideo>;
  private readonly worker: Worker<QueuedInput, KeptVideo>;
  private readonly listener: Redis;
  private readonly workerConnection: Redis;
  private readonly running = new Map<string, AbortController>();
  private closing = false;

  private constructor(private readonly options: RedisVideoJobsOptions) {
    const { redis, queueName, logger } = options;
    const prefix = this.prefix;
    this.queue = new Queue(queueName, { connection: redis, prefix });
    this.queue.on('error', (error) => logger?.debug({ err: error }, 'video job queue error'));
    // The worker blocks on Redis while it waits for jobs, so it needs connections of its own that
    // wait for Redis to come back rather than fail.
    this.workerConnection = redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
    this.workerConnection.on('error', () => {}); // the command connection reports outages
    this.worker = new Worker(queueName, (job, token) => this.process(job, token), {
      connection: this.workerConnection,
      prefix,
      concurrency: 1,
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      maxStalledCount: MAX_STALLS,
      autorun: false,
    });
    this.worker.on('error', (error) => logger?.debug({ err: error }, 'video job worker error'));
    this.worker.on('completed', (job) => void this.ended(job));
    this.worker.on('failed', (job) => job && void this.ended(job));
    this.listener = redis.duplicate({ enableOfflineQueue: true });
    this.listener.on('error', () => {}); // the command connection reports outages
    this.listener.on('message', (_channel, id: string) => this.running.get(id)?.abort(cancelledByClient()));
  }

  /** Connects the queue, starts this server's worker, and listens for cancellations. */
  static async start(options: RedisVideoJobsOptions): Promise<RedisVideoJobs> {
    const jobs = new RedisVideoJobs(options);
    await jobs.queue.waitUntilReady();
    await jobs.listener.subscribe(jobs.cancelChannel);
    void jobs.worker
      .run()
      .catch((error: unknown) => options.logger?.error({ err: error }, 'video job worker stopped'));
    return jobs;
  }

  private get prefix(): string {
    return REDIS_KEY_PREFIX;
  }

  private get cancelChannel(): string {
    return `${this.prefix}:${this.options.queueName}:cancel`;
  }

  private cancelKey(id: string): string {
    return `${this.cancelChannel}:${id}`;
  }

  /** A job cancelled before any server started it: its final state, kept as long as results are. */
  private endedKey(id: string): string {
    return `${this.prefix}:${this.options.queueName}:cancelled:${id}`;
  }

  private get keepSeconds(): number {
    return this.options.files.keepSeconds;
  }

  health(): VideoJobQueueHealth {
    const ok = this.options.redis.status === 'ready';
    return {
      backend: 'redis',
      ok,
      ...(ok
        ? {}
        : { message: `Redis (REDIS_URL) cannot be reached (${this.options.redis.status}): video jobs wait` }),
    };
  }

  async submit(job: VideoJob, callbackUrl?: URL): Promise<VideoJobState> {
    return this.reachingRedis(async () => {
      const counts = await this.queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'paused');
      const unfinished = Object.values(counts).reduce((sum, count) => sum + count, 0);
      if (unfinished >= this.options.maxUnfinished)
        throw new EngineOverloadedError(
          `${unfinished} video jobs are already waiting or running: submit again later`,
          30,
        );
      const { avatar } = job;
      const input: QueuedInput = {
        speech: job.speech,
        avatar:
          avatar.kind === 'named'
            ? avatar
            : {
                kind: avatar.kind,
                base64: avatar.bytes.toString('base64'),
                fileName: avatar.fileName,
                name: avatar.name,
              },
        sentFields: job.sentFields,
        ...(callbackUrl ? { callbackUrl: callbackUrl.href } : {}),
      };
      const added = await this.queue.add('render', input, {
        jobId: randomUUID(),
        attempts: 1,
        removeOnComplete: { age: this.keepSeconds },
        removeOnFail: { age: this.keepSeconds },
      });
      return stateOf(added, 'waiting');
    });
  }

  async get(id: string): Promise<VideoJobState> {
    return this.reachingRedis(async () => {
      const found = await this.find(id);
      if (!found) return this.cancelledBeforeStart(id);
      return stateOf(found.job, found.bullState);
    });
  }

  async cancel(id: string): Promise<VideoJobState> {
    return this.reachingRedis(async () => {
      const found = await this.find(id);
      if (!found) return this.cancelledBeforeStart(id);
      const { job } = found;
      const state = stateOf(job, found.bullState);
      if (state.status !== 'queued' && state.status !== 'running') return state;
      // Seen by the server that runs it (now, or when it starts it), wherever that is.
      await this.options.redis.set(this.cancelKey(id), '1', 'EX', this.keepSeconds);
      await this.options.redis.publish(this.cancelChannel, id);
      if (state.status === 'running') return state;
      try {
        await job.remove(); // refused when a server has just taken it: that server stops it
      } catch {
        return state;
      }
      const ended: VideoJobState = {
        ...state,
        status: 'cancelled',
        updated_at: new Date().toISOString(),
        error: CANCELLED,
      };
      await this.options.redis.set(this.endedKey(id), JSON.stringify(ended), 'EX', this.keepSeconds);
      const callbackUrl = job.data.callbackUrl;
      if (callbackUrl && this.options.notify) void this.options.notify(new URL(callbackUrl), ended);
      return ended;
    });
  }

  /**
   * Stops taking jobs and puts the one this server renders back in the queue for another server (or
   * the next start), so that a shutdown never loses it.
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const controller of this.running.values())
      controller.abort(new CancelledError('the server is shutting down'));
    const closed = Promise.allSettled([this.worker.close(), this.queue.close(), this.listener.quit()]);
    // With Redis gone, closing would wait for it: past 5 s the connections are simply dropped.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    this.listener.disconnect();
    this.workerConnection.disconnect();
    this.options.redis.disconnect();
  }

  /**
   * The job and its state, read in that order so that they agree: a job that ends in between reads
   * as still running (the next read says how it ended), never as ended without its result.
   */
  private async find(id: string): Promise<{ job: QueuedJob; bullState: JobState | 'unknown' } | undefined> {
    // Ids are UUIDs: anything else is no job, and never reaches Redis as a key.
    if (!isRandomId(id)) return undefined;
    const bullState = await this.queue.getJobState(id);
    const job =
      bullState === 'unknown' ? undefined : await Job.fromId<QueuedInput, KeptVideo>(this.queue, id);
    return job ? { job, bullState } : undefined;
  }

  private async cancelledBeforeStart(id: string): Promise<VideoJobState> {
    const ended = isRandomId(id) ? await this.options.redis.get(this.endedKey(id)) : null;
    if (ended) return JSON.parse(ended) as VideoJobState;
    throw new InvalidInputError(jobNotFoundMessage(id), { statusCode: 404, code: 'job_not_found' });
  }

  /** Runs a request's Redis commands, answering 503 with the reason when Redis is unreachable. */
  private async reachingRedis<T>(work: () => Promise<T>): Promise<T> {
    const unavailable = (cause?: unknown) =>
      new ServerError(
        'video jobs are kept in Redis (REDIS_URL), which cannot be reached now: try again in a moment; ' +
          'if it lasts, check that Redis runs',
        {
          code: 'queue_unavailable',
          statusCode: 503,
          isRetryable: true,
          retryAfterSeconds: 5,
          expose: true,
          cause,
        },
      );
    if (this.options.redis.status !== 'ready') throw unavailable();
    try {
      return await work();
    } catch (error) {
      if (this.options.redis.status !== 'ready' || isConnectionError(error)) throw unavailable(error);
      throw error;
    }
  }

  /** Renders one job on this server (BullMQ's processor). */
  private async process(job: QueuedJob, token?: string): Promise<KeptVideo> {
    const id = job.id ?? '';
    const controller = new AbortController();
    this.running.set(id, controller);
    try {
      if (await this.options.redis.exists(this.cancelKey(id))) throw cancelledByClient();
      this.options.logger?.info({ job: id }, 'rendering video job');
      let reportedAt = 0;
      let reportedStage = '';
      const result = await this.options.video.render(
        fromQueued(job.data),
        controller.signal,
        (stage, fraction) => {
          const now = Date.now();
          if (stage === reportedStage && now - reportedAt < PROGRESS_EVERY_MS) return;
          reportedAt = now;
          reportedStage = stage;
          const progress: QueuedProgress = { stage, fraction: fraction ?? null, at: now };
          job.updateProgress(progress as unknown as object).catch(() => {});
        },
      );
      return await this.options.files.keep(result);
    } catch (error) {
      if (this.closing && !isCancelledByClient(controller.signal.reason)) {
        // Shutting down: back to the queue, not counted as a stall, for another server to take.
        await job.moveToWait(token);
        this.options.logger?.info(
          { job: id },
          'video job put back in the queue: this server is shutting down',
        );
        throw new WaitingError();
      }
      const cancelled = isCancelledByClient(controller.signal.reason) || isCancelledByClient(error);
      if (!cancelled) this.options.logger?.warn({ err: error, job: id }, 'video job failed');
      throw new UnrecoverableError(JSON.stringify(cancelled ? CANCELLED : publicError(error, `job ${id}`)));
    } finally {
      this.running.delete(id);
    }
  }

  /** Calls the job's callback back with its final state, once (from the server that ended it). */
  private async ended(finished: QueuedJob): Promise<void> {
    const callbackUrl = finished.data.callbackUrl;
    if (!callbackUrl || !this.options.notify || !finished.id) return;
    try {
      const found = await this.find(finished.id);
      if (!found) return;
      await this.options.notify(new URL(callbackUrl), stateOf(found.job, found.bullState));
    } catch (error) {
      this.options.logger?.warn(
        { err: error, job: finished.id },
        'could not read the ended job back for its callback',
      );
    }
  }
}

function cancelledByClient(): CancelledError {
  return new CancelledError('cancelled by the client');
}

function isCancelledByClient(reason: unknown): boolean {
  return reason instanceof CancelledError && reason.message === 'cancelled by the client';
}

function isConnectionError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /Connection is closed|enableOfflineQueue|ECONNREFUSED|ECONNRESET|Stream isn't writeable/.test(
    message,
  );
}

function fromQueued(input: QueuedInput): VideoJob {
  const { avatar } = input;
  return {
    speech: input.speech,
    avatar:
      avatar.kind === 'named'
        ? avatar
        : {
            kind: avatar.kind,
            bytes: Buffer.from(avatar.base64, 'base64'),
            fileName: avatar.fileName,
            name: avatar.name,
          },
    sentFields: input.sentFields,
  };
}

/** How a job's failure reads in its state: ours (JSON), or BullMQ's own (a job that stalled too often). */
function errorOf(job: QueuedJob): JobError {
  const reason = job.failedReason ?? '';
  try {
    const parsed = JSON.parse(reason) as JobError;
    if (typeof parsed.detail === 'string' && typeof parsed.code === 'string') return parsed;
  } catch {
    // not ours
  }
  if (/stalled/.test(reason))
    return {
      detail:
        `the servers rendering this job stopped (killed, crashed or cut off from Redis) ${MAX_STALLS + 1} times; ` +
        'it is not started again: submit it again',
      code: 'interrupted',
      status_code: 500,
    };
  return { detail: reason || 'the job failed', code: 'internal_error', status_code: 500 };
}

/** The API's view of a BullMQ job. */
function stateOf(job: QueuedJob, bullState: JobState | 'unknown'): VideoJobState {
  const progress = typeof job.progress === 'object' ? (job.progress as unknown as QueuedProgress) : undefined;
  const updated = Math.max(job.timestamp, job.processedOn ?? 0, job.finishedOn ?? 0, progress?.at ?? 0);
  const state: VideoJobState = {
    job_id: job.id ?? '',
    status: STATUS[bullState] ?? 'queued',
    created_at: new Date(job.timestamp).toISOString(),
    updated_at: new Date(updated).toISOString(),
    progress: progress ? { stage: progress.stage, fraction: progress.fraction } : null,
  };
  if (bullState === 'completed') return { ...state, ...job.returnvalue };
  if (bullState === 'failed') {
    const error = errorOf(job);
    return { ...state, status: error.code === 'cancelled' ? 'cancelled' : 'failed', error };
  }
  // Started again after its server died: queued again, with no progress yet.
  if (state.status === 'queued') state.progress = null;
  return state;
}
