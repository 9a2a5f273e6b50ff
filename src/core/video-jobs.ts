import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CancelledError, EngineOverloadedError, InvalidInputError, publicError } from '../errors.ts';
import { jobNotFoundMessage } from './video-job-queue.ts';
import type { VideoJob, VideoService } from './video-service.ts';
import type { KeptVideo, VideoStore } from './video-store.ts';

export type VideoJobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/**
 * What GET /video/jobs/{id} answers, and what the callback receives when the job ends: once it has
 * succeeded, with the kept video's fields (the same as the SSE `done` event).
 */
export interface VideoJobState extends Partial<KeptVideo> {
  job_id: string;
  status: VideoJobStatus;
  created_at: string;
  updated_at: string;
  progress: { stage: string; fraction: number | null } | null;
  error?: { detail: string; code: string; status_code: number };
  /** Once the live stream of the rendering video has its first segment (engines that can stream). */
  playlist_url?: string;
}

/** A job as kept across restarts: its state, and while it has not ended, what it needs to run. */
export interface StoredVideoJob {
  state: VideoJobState;
  /** Absent once the job has ended (nothing more to run). */
  job?: VideoJob;
  callbackUrl?: string;
  /** Times it has been started; a job a restart interrupted is started again up to MAX_ATTEMPTS. */
  attempts: number;
}

/** Where jobs are kept so that a restart neither loses them nor their results. */
export interface JobStore {
  save(stored: StoredVideoJob): Promise<void>;
  loadAll(): Promise<StoredVideoJob[]>;
  remove(id: string): Promise<void>;
}

/** A job interrupted by a restart this many times is reported failed instead of started again. */
export const MAX_ATTEMPTS = 2;

export interface VideoJobsOptions {
  video: VideoService;
  files: VideoStore;
  /** Keeps jobs across restarts; absent: they live in memory only. */
  store?: JobStore;
  /** Jobs not yet finished at once; one more is refused with 503 rather than piling up. */
  maxUnfinished: number;
  /** Tells a client's callback URL that a job ended. */
  notify?: (callbackUrl: URL, state: VideoJobState) => Promise<void>;
  logger?: Logger;
}

interface Entry {
  state: VideoJobState;
  controller: AbortController;
  finishedAt?: number;
  attempts: number;
  callbackUrl?: URL;
}

const FINISHED: VideoJobStatus[] = ['succeeded', 'failed', 'cancelled'];

/**
 * Video rendering as jobs, for clients that cannot hold a connection open: submit, then poll or be
 * called back. Jobs are kept as long as their videos are (VIDEO_OUTPUT_KEEP_S). With a store they
 * survive a restart: finished ones keep answering, and one the restart interrupted is started again
 * (up to MAX_ATTEMPTS times), or reported failed — never lost without a word.
 */
export class VideoJobs {
  private readonly jobs = new Map<string, Entry>();
  private closing = false;
  /** Saves under way, which close() waits for. */
  private readonly saving = new Set<Promise<void>>();

  constructor(private readonly options: VideoJobsOptions) {}

  submit(job: VideoJob, callbackUrl?: URL): VideoJobState {
    this.forgetExpired();
    const unfinished = [...this.jobs.values()].filter((entry) => !FINISHED.includes(entry.state.status));
    if (unfinished.length >= this.options.maxUnfinished) {
      throw new EngineOverloadedError(
        `${unfinished.length} video jobs are already waiting or running: submit again later`,
        30,
      );
    }
    const now = new Date().toISOString();
    const entry: Entry = {
      controller: new AbortController(),
      attempts: 1,
      callbackUrl,
      state: {
        job_id: randomUUID(),
        status: 'queued',
        created_at: now,
        updated_at: now,
        progress: null,
      },
    };
    this.jobs.set(entry.state.job_id, entry);
    // Kept before it starts: a crash right after the 202 must not lose it.
    void this.persist(entry, job).then(() => this.run(entry, job));
    return { ...entry.state };
  }

  /**
   * Takes up the jobs of the previous run: finished ones answer again; each one it interrupted is
   * started again, or, after MAX_ATTEMPTS starts (or without its input), is failed with the reason.
   */
  async restore(): Promise<void> {
    const stored = (await this.options.store?.loadAll()) ?? [];
    for (const { state, job, callbackUrl, attempts } of stored) {
      const entry: Entry = {
        controller: new AbortController(),
        attempts,
        callbackUrl: callbackUrl ? new URL(callbackUrl) : undefined,
        state,
      };
      this.jobs.set(state.job_id, entry);
      if (FINISHED.includes(state.status)) {
        entry.finishedAt = Date.parse(state.updated_at);
        continue;
      }
      if (job && attempts < MAX_ATTEMPTS) {
        entry.attempts += 1;
        this.update(entry, { status: 'queued', progress: null });
        this.options.logger?.info(
          { job: state.job_id },
          'video job interrupted by a restart: starting it again',
        );
        void this.persist(entry, job).then(() => this.run(entry, job));
        continue;
      }
      this.update(entry, {
        status: 'failed',
        progress: null,
        error: {
          detail:
            `the server stopped while this job was ${state.status}` +
            (job ? `, ${attempts} time(s); it is not started again` : ', and its input was not kept') +
            ': submit it again',
          code: 'interrupted',
          status_code: 500,
        },
      });
      // Kept before the server serves; the callback (with its retries) goes on its own, so that a
      // slow or unreachable receiver does not hold up the start.
      await this.finish(entry, { waitForCallback: false });
    }
    this.forgetExpired();
  }

  get(id: string): VideoJobState {
    return { ...this.entry(id).state };
  }

  /** Stops a queued or running job; a finished one is left as it is. */
  cancel(id: string): VideoJobState {
    const entry = this.entry(id);
    if (!FINISHED.includes(entry.state.status))
      entry.controller.abort(new CancelledError('cancelled by the client'));
    return { ...entry.state };
  }

  /**
   * Stops every unfinished job (the server is shutting down). With a store they stay as they were
   * kept, so the next start runs them again.
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const entry of this.jobs.values()) entry.controller.abort();
    // A job that ended just now is still being kept: the next start must find it as it ended.
    await Promise.all(this.saving);
  }

  private entry(id: string): Entry {
    const entry = this.jobs.get(id);
    if (!entry)
      throw new InvalidInputError(jobNotFoundMessage(id), { statusCode: 404, code: 'job_not_found' });
    return entry;
  }

  private update(entry: Entry, change: Partial<VideoJobState>): void {
    entry.state = { ...entry.state, ...change, updated_at: new Date().toISOString() };
  }

  /** Keeps the job as it is now (a failing store is logged: the job goes on in memory). */
  private async persist(entry: Entry, job?: VideoJob): Promise<void> {
    const saving = this.save(entry, job);
    this.saving.add(saving);
    await saving.finally(() => this.saving.delete(saving));
  }

  private async save(entry: Entry, job?: VideoJob): Promise<void> {
    await this.options.store
      ?.save({
        state: entry.state,
        job,
        callbackUrl: entry.callbackUrl?.href,
        attempts: entry.attempts,
      })
      .catch((error: unknown) =>
        this.options.logger?.warn(
          { err: error, job: entry.state.job_id },
          'could not keep the video job on disk',
        ),
      );
  }

  private async finish(entry: Entry, { waitForCallback = true } = {}): Promise<void> {
    entry.finishedAt = Date.now();
    await this.persist(entry);
    const { callbackUrl } = entry;
    if (!callbackUrl || !this.options.notify) return;
    const told = this.options
      .notify(callbackUrl, { ...entry.state })
      .catch((error: unknown) =>
        this.options.logger?.warn({ err: error, job: entry.state.job_id }, 'the job callback failed'),
      );
    if (waitForCallback) await told;
  }

  private async run(entry: Entry, job: VideoJob): Promise<void> {
    const signal = entry.controller.signal;
    // The save of the first progress, awaited before the final one: a job that ends soon after
    // must not be left on disk as still running (and be run again by the next start).
    let startSaved: Promise<void> | undefined;
    try {
      const result = await this.options.video.render(
        job,
        signal,
        (stage, fraction) => {
          this.update(entry, { status: 'running', progress: { stage, fraction: fraction ?? null } });
          startSaved ??= this.persist(entry, job);
        },
        ({ playlist_url }) => this.update(entry, { playlist_url }),
      );
      this.update(entry, { status: 'succeeded', ...(await this.options.files.keep(result)) });
    } catch (error) {
      // Shutting down: the job stays kept as it was, and the next start runs it again.
      if (this.closing && this.options.store) return;
      const cancelled = signal.aborted || error instanceof CancelledError;
      if (!cancelled) this.options.logger?.warn({ err: error, job: entry.state.job_id }, 'video job failed');
      this.update(entry, {
        status: cancelled ? 'cancelled' : 'failed',
        error: cancelled
          ? { detail: 'the job was cancelled', code: 'cancelled', status_code: 499 }
          : publicError(error, `job ${entry.state.job_id}`),
      });
    }
    await startSaved;
    await this.finish(entry);
  }

  private forgetExpired(): void {
    const horizon = Date.now() - this.options.files.keepSeconds * 1000;
    for (const [id, entry] of this.jobs)
      if (entry.finishedAt !== undefined && entry.finishedAt < horizon) {
        this.jobs.delete(id);
        void this.options.store?.remove(id);
      }
  }
}
