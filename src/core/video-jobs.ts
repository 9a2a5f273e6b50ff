import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CancelledError, EngineOverloadedError, InvalidInputError, publicError } from '../errors.ts';
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
}

export interface VideoJobsOptions {
  video: VideoService;
  files: VideoStore;
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
}

const FINISHED: VideoJobStatus[] = ['succeeded', 'failed', 'cancelled'];

/**
 * Video rendering as jobs, for clients that cannot hold a connection open: submit, then poll or be
 * called back. Jobs live in memory as long as their videos do (VIDEO_OUTPUT_KEEP_S); a restart
 * forgets them.
 */
export class VideoJobs {
  private readonly jobs = new Map<string, Entry>();

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
      state: {
        job_id: randomUUID(),
        status: 'queued',
        created_at: now,
        updated_at: now,
        progress: null,
      },
    };
    this.jobs.set(entry.state.job_id, entry);
    void this.run(entry, job, callbackUrl);
    return { ...entry.state };
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

  /** Stops every unfinished job (the server is shutting down). */
  close(): void {
    for (const entry of this.jobs.values()) entry.controller.abort();
  }

  private entry(id: string): Entry {
    const entry = this.jobs.get(id);
    if (!entry)
      throw new InvalidInputError(
        `no video job ${id}: it never existed here, or it expired (VIDEO_OUTPUT_KEEP_S)`,
        {
          statusCode: 404,
          code: 'job_not_found',
        },
      );
    return entry;
  }

  private update(entry: Entry, change: Partial<VideoJobState>): void {
    entry.state = { ...entry.state, ...change, updated_at: new Date().toISOString() };
  }

  private async run(entry: Entry, job: VideoJob, callbackUrl: URL | undefined): Promise<void> {
    const signal = entry.controller.signal;
    try {
      const result = await this.options.video.render(job, signal, (stage, fraction) =>
        this.update(entry, { status: 'running', progress: { stage, fraction: fraction ?? null } }),
      );
      this.update(entry, { status: 'succeeded', ...(await this.options.files.keep(result)) });
    } catch (error) {
      const cancelled = signal.aborted || error instanceof CancelledError;
      if (!cancelled) this.options.logger?.warn({ err: error, job: entry.state.job_id }, 'video job failed');
      this.update(entry, {
        status: cancelled ? 'cancelled' : 'failed',
        error: cancelled
          ? { detail: 'the job was cancelled', code: 'cancelled', status_code: 499 }
          : publicError(error, `job ${entry.state.job_id}`),
      });
    }
    entry.finishedAt = Date.now();
    if (callbackUrl && this.options.notify) await this.options.notify(callbackUrl, { ...entry.state });
  }

  private forgetExpired(): void {
    const horizon = Date.now() - this.options.files.keepSeconds * 1000;
    for (const [id, entry] of this.jobs)
      if (entry.finishedAt !== undefined && entry.finishedAt < horizon) this.jobs.delete(id);
  }
}
