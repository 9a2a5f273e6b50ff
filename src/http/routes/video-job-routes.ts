import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.ts';
import type { VideoJobQueue } from '../../core/video-job-queue.ts';
import type { VideoService } from '../../core/video-service.ts';
import { checkCallbackUrl } from '../../core/webhook.ts';
import { videoFormContext, videoJobFromRequest } from '../requests/video-form.ts';
import { videoJobCancelDocs, videoJobDocs, videoJobSubmitDocs } from '../openapi/video-docs.ts';

export interface VideoJobRoutesOptions {
  jobs: VideoJobQueue;
  /** Checks a job's avatar when it is submitted, so a refused one is a 4xx, not a failed job. */
  video: VideoService;
  config: Config;
}

/**
 * Video rendering as jobs: POST /video/jobs (the /video/generate form, plus an optional callback_url)
 * answers 202 at once; GET /video/jobs/{id} reports the state and progress; DELETE cancels. When a
 * job ends, its state is POSTed to callback_url, signed with WEBHOOK_SECRET.
 */
export const videoJobRoutes: FastifyPluginAsync<VideoJobRoutesOptions> = async (
  app,
  { jobs, video, config },
) => {
  const form = videoFormContext(config, video);
  app.post(
    '/video/jobs',
    {
      schema: {
        summary: 'Submit a video to render in the background',
        description:
          'The /video/generate form plus callback_url (optional). Answers 202 with the job; poll ' +
          'GET /video/jobs/{id}, or receive the finished state at callback_url (X-Signature: sha256=HMAC of ' +
          '"<X-Timestamp>.<body>" with WEBHOOK_SECRET).',
        tags: ['video'],
        docs: videoJobSubmitDocs,
      },
    },
    async (request, reply) => {
      const { job, extra } = await videoJobFromRequest(request, form, { extraFields: ['callback_url'] });
      const callbackUrl = extra.callback_url?.trim()
        ? checkCallbackUrl(extra.callback_url.trim())
        : undefined;
      const state = await jobs.submit(job, callbackUrl);
      return reply
        .status(202)
        .header('Location', `/video/jobs/${state.job_id}`)
        .send({ ...state, status_url: `/video/jobs/${state.job_id}` });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/video/jobs/:id',
    { schema: { summary: 'A video job’s state, progress and result', tags: ['video'], docs: videoJobDocs } },
    async (request) => jobs.get(request.params.id),
  );

  app.delete<{ Params: { id: string } }>(
    '/video/jobs/:id',
    { schema: { summary: 'Cancel a video job', tags: ['video'], docs: videoJobCancelDocs } },
    async (request) => jobs.cancel(request.params.id),
  );
};
