import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.ts';
import fastifyStatic from '@fastify/static';
import path from 'node:path';
import type { VideoService } from '../../core/video-service.ts';
import type { VideoStore } from '../../core/video-store.ts';
import { corsHeadersFor, SseWriter } from '../streaming/sse.ts';
import {
  cacheHeader,
  ignoredHeader,
  referenceWarningsHeader,
  seedHeader,
  voiceFallbackHeader,
} from '../response-headers.ts';
import { InvalidInputError, publicError } from '../../errors.ts';
import { requestSignal } from '../requests/request-signal.ts';
import { videoFormContext, videoJobFromRequest } from '../requests/video-form.ts';
import { logFailure } from '../../observability/log-failure.ts';
import {
  videoAvatarsDocs,
  videoFileDocs,
  videoGenerateDocs,
  videoGenerateSseDocs,
  videoStreamDocs,
} from '../openapi/video-docs.ts';
import { readFile } from 'node:fs/promises';

export interface VideoRoutesOptions {
  video: VideoService;
  files: VideoStore;
  config: Config;
}

/** /video/generate (multipart, → video/mp4) and /video/avatars, as the seed documented them. */
export const videoRoutes: FastifyPluginAsync<VideoRoutesOptions> = async (app, options) => {
  const { video, files, config } = options;
  const form = videoFormContext(config, video);
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
          'multipart/form-data: text, language, ref_audio, ref_text, avatar_image (photo file), avatar_video (video file) or avatar (name), model_size, x_vector_only_mode.',
        tags: ['video'],
        // The form is documented (docs.form), not validated by Fastify: video-form.ts reads it.
        docs: videoGenerateDocs,
      },
    },
    async (request, reply) => {
      const { job } = await videoJobFromRequest(request, form);
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
          '(tts, avatar, features, lipsync, encode), `playable` ({playlist_url}) once the live HLS stream of ' +
          'the video has its first segment (engines that can stream), then `done` with `video_url` ' +
          '(downloadable for VIDEO_OUTPUT_KEEP_S seconds), or `error`. Bad input is a plain 4xx before the ' +
          'stream starts.',
        tags: ['video'],
        docs: videoGenerateSseDocs,
      },
    },
    async (request, reply) => {
      const { job } = await videoJobFromRequest(request, form);
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
        const result = await video.render(
          job,
          signal,
          (stage, fraction) =>
            sse.send('progress', { stage, fraction: fraction ?? null, elapsed: elapsed() }),
          ({ playlist_url }) => sse.send('playable', { playlist_url, elapsed: elapsed() }),
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
      const { name } = request.params;
      // A video another server rendered (jobs shared through Redis) is fetched here first.
      const found = await files.locate(name);
      if (!found) {
        throw new InvalidInputError(
          'no such video: it was never rendered here or has expired (VIDEO_OUTPUT_KEEP_S); render it again',
          { statusCode: 404, code: 'video_not_found' },
        );
      }
      return reply.type('video/mp4').sendFile(found.name, found.root);
    },
  );

  app.get<{ Params: { id: string; file: string } }>(
    '/video/streams/:id/:file',
    {
      schema: {
        summary: 'The live HLS stream of a video rendered by /video/generate/sse or a job',
        tags: ['video'],
        docs: videoStreamDocs,
      },
    },
    async (request, reply) => {
      const found = video.streams?.find(request.params.id, request.params.file);
      const bytes = found && (await readFile(found.path).catch(() => undefined));
      if (!found || !bytes) {
        throw new InvalidInputError(
          'no such stream file: the stream was never made here or has expired (VIDEO_OUTPUT_KEEP_S); ' +
            'download the MP4 or render again',
          { statusCode: 404, code: 'stream_not_found' },
        );
      }
      if (found.type !== 'application/vnd.apple.mpegurl')
        return reply
          .type(found.type)
          .header('Cache-Control', `private, max-age=${config.VIDEO_OUTPUT_KEEP_S}`)
          .send(bytes);
      // The playlist grows while the video renders: a player must fetch it anew each time. Players
      // join a live EVENT playlist near its end unless told otherwise: this one is watched from the start.
      return reply
        .type(found.type)
        .header('Cache-Control', 'no-cache')
        .send(
          bytes.toString('utf8').replace(/^#EXTM3U\n/, '#EXTM3U\n#EXT-X-START:TIME-OFFSET=0,PRECISE=YES\n'),
        );
    },
  );
};
