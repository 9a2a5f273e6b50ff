import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import fastifyStatic from '@fastify/static';
import path from 'node:path';
import type { VideoJob, VideoService } from '../../core/video-service.ts';
import type { VideoStore } from '../../core/video-store.ts';
import { corsHeadersFor, SseWriter } from '../sse.ts';
import { sseErrorData } from '../sse-error.ts';
import { referenceWarningsHeader } from '../response-headers.ts';
import type { AvatarSource } from '../../engines/spec/lipsync-engine.ts';
import { InvalidInputError, ServerError } from '../../errors.ts';
import { RequestValidationError } from '../request-validation-error.ts';
import { requestSignal } from '../request-signal.ts';
import { videoFormSchema } from '../schemas/video-schemas.ts';
import { modelKeyForSize, speechJobFromBody } from '../speech-job-from-body.ts';
import { generationParamsSchema } from '../schemas/tts-schemas.ts';

export interface VideoRoutesOptions {
  video: VideoService;
  files: VideoStore;
  config: Config;
}

interface ParsedForm {
  fields: Record<string, string>;
  avatarImage?: { bytes: Buffer; fileName: string };
}

/** Reads the multipart form; file parts are size-capped by the multipart plugin's limits. */
async function readForm(request: FastifyRequest): Promise<ParsedForm> {
  if (!request.isMultipart()) {
    throw new InvalidInputError(
      'send the video form as multipart/form-data (curl -F field=value -F avatar_image=@photo.jpg)',
      {
        statusCode: 415,
        code: 'not_multipart',
      },
    );
  }
  const form: ParsedForm = { fields: {} };
  try {
    await collectParts(request, form);
  } catch (error) {
    // Fastify's multipart errors (too many files, …) carry their own 4xx; a malformed body does not.
    const status = (error as { statusCode?: number }).statusCode;
    if ((error as { code?: string }).code === 'FST_FILES_LIMIT')
      throw new InvalidInputError('too many files: send avatar_image and, optionally, ref_audio', {
        statusCode: 413,
        code: 'too_many_files',
      });
    if (error instanceof ServerError || (status !== undefined && status < 500)) throw error;
    throw new InvalidInputError(
      `the multipart form could not be read (${(error as Error).message}): send it as curl -F does`,
      { code: 'bad_multipart' },
    );
  }
  return form;
}

async function collectParts(request: FastifyRequest, form: ParsedForm): Promise<void> {
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      const bytes = await part.toBuffer();
      if (part.file.truncated) {
        throw new InvalidInputError(
          `${part.fieldname} is larger than the upload limit (VIDEO_MAX_UPLOAD_BYTES)`,
          {
            statusCode: 413,
            code: 'upload_too_large',
          },
        );
      }
      if (part.fieldname === 'avatar_image')
        form.avatarImage = { bytes, fileName: part.filename || 'upload' };
      else if (part.fieldname === 'ref_audio') form.fields.ref_audio = bytes.toString('base64');
      else
        throw new InvalidInputError(
          `unexpected file field ${part.fieldname}: send avatar_image (and optionally ref_audio)`,
        );
    } else if (typeof part.value === 'string') {
      form.fields[part.fieldname] = part.value;
    }
  }
}

/** /video/generate (multipart, → video/mp4) and /video/avatars, as the seed documented them. */
export const videoRoutes: FastifyPluginAsync<VideoRoutesOptions> = async (app, options) => {
  const { video, files, config } = options;
  // Serves finished videos with Range support (browsers' <video> seeks with it); no routes of its own.
  await app.register(fastifyStatic, { root: path.resolve(config.VIDEO_OUTPUT_DIR), serve: false });

  app.get(
    '/video/avatars',
    { schema: { summary: 'Avatars a request may name', tags: ['video'] } },
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
        consumes: ['multipart/form-data'],
      },
    },
    async (request, reply) => {
      const job = await videoJobFromRequest(request);
      const signal = requestSignal(request, reply, config.REQUEST_TIMEOUT_MS);
      const result = await video.render(job, signal, (stage, fraction) =>
        request.log.debug({ stage, fraction }, 'video progress'),
      );
      reply
        .type('video/mp4')
        .header('Content-Disposition', 'attachment; filename=output.mp4')
        .header('X-Generation-Time', result.totalSeconds.toFixed(3))
        .header('X-TTS-Time', result.ttsSeconds.toFixed(3))
        .header('X-Seed', String(job.speech.seed))
        .header('X-Avatar-Used', encodeURIComponent(result.avatarUsed))
        .headers(referenceWarningsHeader(result.referenceWarnings));
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
        consumes: ['multipart/form-data'],
      },
    },
    async (request, reply) => {
      const job = await videoJobFromRequest(request);
      const signal = requestSignal(request, reply, config.REQUEST_TIMEOUT_MS);
      const sse = new SseWriter(reply, { ...corsHeadersFor(reply), 'X-Seed': String(job.speech.seed) });
      sse.send('meta', { status: 'rendering', seed: job.speech.seed });
      const startedAt = performance.now();
      const elapsed = () => Number(((performance.now() - startedAt) / 1000).toFixed(3));
      try {
        const result = await video.render(job, signal, (stage, fraction) =>
          sse.send('progress', { stage, fraction: fraction ?? null, elapsed: elapsed() }),
        );
        const name = await files.save(result.mp4);
        sse.send('done', {
          video_url: `/video/files/${name}`,
          expires_in: files.keepSeconds,
          bytes: result.mp4.length,
          avatar_used: result.avatarUsed,
          notices: result.notices,
          reference_warnings: result.referenceWarnings,
          elapsed: { tts: result.ttsSeconds, total: result.totalSeconds },
        });
      } catch (error) {
        request.log.warn({ err: error }, 'video stream failed');
        sse.send('error', sseErrorData(error, request.id));
      } finally {
        sse.end();
      }
    },
  );

  app.get<{ Params: { name: string } }>(
    '/video/files/:name',
    { schema: { summary: 'Download a video rendered by /video/generate/sse', tags: ['video'] } },
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

/** Reads and checks the multipart form: every input error is a 4xx before any work starts. */
async function videoJobFromRequest(request: FastifyRequest): Promise<VideoJob> {
  const form = await readForm(request);
  const parsed = videoFormSchema.safeParse(form.fields);
  if (!parsed.success) {
    throw new RequestValidationError(
      parsed.error.issues.map((issue) => ({
        type: issue.code,
        loc: ['body', ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))],
        msg: issue.message,
      })),
    );
  }
  const body = parsed.data;
  let avatar: AvatarSource;
  if (form.avatarImage) avatar = { kind: 'image', ...form.avatarImage };
  else if (body.avatar) avatar = { kind: 'named', name: body.avatar };
  else {
    throw new RequestValidationError([
      {
        type: 'missing',
        loc: ['body', 'avatar_image'],
        msg: 'send avatar_image (a photo) or avatar (a name from /video/avatars)',
      },
    ]);
  }
  const speech = speechJobFromBody(
    {
      text: body.text,
      language: body.language,
      ref_audio: body.ref_audio,
      ref_text: body.ref_text,
      x_vector_only_mode: body.x_vector_only_mode,
      split_sentences: body.split_sentences,
      seed: body.seed,
      generation_params: generationParamsSchema.parse({}),
      normalize: body.normalize,
      pronunciations: body.pronunciations,
    },
    modelKeyForSize(body.model_size),
  );
  return { speech, avatar };
}
