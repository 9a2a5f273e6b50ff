import type { VideoJobState } from './video-jobs.ts';
import type { VideoJob } from './video-service.ts';

/** Whether the place jobs are kept can be reached now; joins /health. */
export interface VideoJobQueueHealth {
  backend: string;
  ok: boolean;
  message?: string;
}

/**
 * Where POST/GET/DELETE /video/jobs go: this process's jobs (VideoJobs), or a queue that several
 * servers share (REDIS_URL). The HTTP API is the same either way.
 */
export interface VideoJobQueue {
  submit(job: VideoJob, callbackUrl?: URL): VideoJobState | Promise<VideoJobState>;
  /** The job's state; a 404 error when it never existed or has expired. */
  get(id: string): VideoJobState | Promise<VideoJobState>;
  /** Stops a queued or running job; a finished one is left as it is. */
  cancel(id: string): VideoJobState | Promise<VideoJobState>;
  /** Present where the queue lives outside this process. */
  health?(): VideoJobQueueHealth;
}

/** The error a job the queue does not know answers (the same wherever jobs live). */
export const jobNotFoundMessage = (id: string) =>
  `no video job ${id}: it never existed here, or it expired (VIDEO_OUTPUT_KEEP_S)`;
