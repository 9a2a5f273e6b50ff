import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.ts';
import fastifyStatic from '@fastify/static';
import path from 'node:path';
import type { VideoService } from '../../core/video-service.ts';
import type { VideoStore } from '../../core/video-store.ts';
import { corsHeadersFor, SseWriter } from '../sse.ts';
import {
  cacheHeader,
  ignoredHeader,
  referenceWarningsHeader,
  seedHeader,
  voiceFallbackHeader,
} from '../response-headers.ts';
import { InvalidInputError, publicError } from '../../errors.ts';
import { requestSignal } from '../request-signal.ts';
import { videoJobFromRequest } from '../video-form.ts';
import { logFailure } from '../../observability/log-failure.ts';
import {
  videoAvatarsDocs,
  videoFileDocs,
  videoGenerateDocs,
  videoGenerateSseDocs,
} from '../openapi/video-docs.ts';

export interface VideoRoutesOptions {
  video: VideoService;
  files: VideoStore;
  config: Config;
}

/** /video/generate (multipart, → video/mp4) and /video/avatars, as the seed documented them. */
export const videoRoutes: FastifyPluginAsync<VideoRoutesOptions> = async (app, options) => {
  const { video, files, config } = options;
  // Serves finished videos with Range support (browsers' <video> seeks with it); no routes of its own.
  await app.register(fastifyStatic, { root: path.resolve(config.VIDEO_OUTPUT_DIR), serve: false });

  app.get(
    '/video/avatars',
    { schema: { summary: 'Avatars a request may name', tags: ['video'], docs: videoAvatarsDocs } },
    async () => ({
      avatars: await video.listAvatars(),
    }),
  );

  app.post(
    '/video/generate',
    {
      schema: {
        summary: 'Render a lip-synced MP4 of the text spoken in the cloned voice',
        description:
          'multipart/form-data: text, language, ref_audio, ref_text, avatar_image (file) or avatar (name), model_size, x_vector_only_mode.',
        tags: ['video'],
        // The form is documented (docs.form), not validated by Fastify: video-form.ts reads it.
        docs: videoGenerateDocs,
      },
    },
    async (request, reply) => {
      const { job } = await videoJobFromRequest(request);
      const signal = requestSignal(request, reply, config.REQUEST_TIMEOUT_MS);
      const result = await video.render(job, signal, (stage, fraction) =>
        request.log.debug({ stage, fraction }, 'video progress'),
      );
      reply
        .type('video/mp4')
        .header('Content-Disposition', 'attachment; filename=output.mp4')
        .header('X-Generation-Time', result.totalSeconds.toFixed(3))
        .header('X-TTS-Time', result.ttsSeconds.toFixed(3))
        .header('X-Avatar-Used', encodeURIComponent(result.avatarUsed))
        .headers({
          ...seedHeader(job.speech.seed, video.honoursSeed()),
          ...ignoredHeader(result.ignored),
          ...voiceFallbackHeader(result.voiceFallback),
          ...referenceWarningsHeader(result.referenceWarnings),
          ...cacheHeader(result.fromCache ?? false),
        });
      if (result.notices.length > 0)
        reply.header('X-Avatar-Notice', encodeURIComponent(result.notices.join(' | ')));
      return reply.send(result.mp4);
    },
  );

  app.post(
    '/video/generate/sse',
    {
      schema: {
        summary: 'Render a lip-synced MP4, reporting progress as Server-Sent Events',
        description:
          'The same form as /video/generate. Events: `meta`, `progress` ({stage, fraction}) as the work advances ' +
          '(tts, avatar, features, lipsync, encode), then `done` with `video_url` (downloadable for ' +
          'VIDEO_OUTPUT_KEEP_S seconds), or `error`. Bad input is a plain 4xx before the stream starts.',
        tags: ['video'],
        docs: videoGenerateSseDocs,
      },
    },
    async (request, reply) => {
      const { job } = await videoJobFromRequest(request);
      const signal = requestSignal(request, reply, config.REQUEST_TIMEOUT_MS);
      const honoursSeed = video.honoursSeed();
      const ignored = video.ignoredSettings(job);
      const sse = new SseWriter(reply, {
        ...corsHeadersFor(reply),
        ...seedHeader(job.speech.seed, honoursSeed),
        ...ignoredHeader(ignored),
      });
      sse.send('meta', {
        status: 'rendering',
        ...(honoursSeed ? { seed: job.speech.seed } : {}),
        ignored,
      });
      const startedAt = performance.now();
      const elapsed = () => Number(((performance.now() - startedAt) / 1000).toFixed(3));
      try {
        const result = await video.render(job, signal, (stage, fraction) =>
          sse.send('progress', { stage, fraction: fraction ?? null, elapsed: elapsed() }),
        );
        sse.send('done', await files.keep(result));
      } catch (error) {
        logFailure(request.log, error, 'video stream failed');
        sse.send('error', publicError(error, `request ${request.id}`));
      } finally {
        sse.end();
      }
    },
  );

  app.get<{ Params: { name: string } }>(
    '/video/files/:name',
    {
      schema: {
        summary: 'Download a video rendered by /video/generate/sse',
        tags: ['video'],
        docs: videoFileDocs,
      },
    },
    async (request, reply) => {
      const found = files.find(request.params.name);
      if (!found) {
        throw new InvalidInputError(
          'no such video: it was never rendered here or has expired (VIDEO_OUTPUT_KEEP_S); render it again',
          { statusCode: 404, code: 'video_not_found' },
        );
      }
      return reply.type('video/mp4').sendFile(found.name, found.root);
    },
  );
};
