import {
  avatarListSchema,
  submittedJobSchema,
  videoFormDocSchema,
  videoJobFormDocSchema,
  videoJobStateSchema,
  videoSseEvents,
} from '../schemas/video-doc-schemas.ts';
import { BINARY, errors, eventStream, example, json, TIMED_OUT, type ErrorSpec } from './responses.ts';
import type { DocExample, DocHeader, RouteDocs } from './route-docs.ts';
import { toOpenApiSchema } from './zod-to-openapi.ts';
import { SEED_EXAMPLE, SPEECH_HEADERS } from './tts-docs.ts';

/** The seed guide's form (curl -F …); the photo is a file part. */
const FORM_EXAMPLES: Record<string, DocExample> = {
  seed: example(
    { ...SEED_EXAMPLE, model_size: '0.6b' },
    'The seed guide’s form (with a photo file in avatar_image)',
  ),
  named: example(
    { text: SEED_EXAMPLE.text, ref_audio: SEED_EXAMPLE.ref_audio, avatar: 'interviewer.jpg' },
    'An avatar from GET /video/avatars instead of a photo',
  ),
};

/** What the form can get wrong, checked before any work starts; `also` adds a route's own 422s. */
function formErrors(also = ''): Record<number, ErrorSpec> {
  return {
    400: 'A form that cannot be read, a file part other than avatar_image, avatar_video or ref_audio, both avatar_image and avatar_video, or a ref_audio path outside REF_AUDIO_DIR',
    413: 'avatar_image over VIDEO_MAX_UPLOAD_BYTES, avatar_video over VIDEO_AVATAR_MAX_BYTES, _SECONDS, _FRAMES or _PIXELS, more than two files, or text over MAX_TEXT_LENGTH',
    415: {
      description: 'Not multipart/form-data, or an avatar_video that is not MP4, MOV or WebM',
      example: {
        detail: 'send the video form as multipart/form-data: curl -F field=value -F avatar_image=@photo.jpg',
        code: 'not_multipart',
      },
    },
    422: {
      description:
        'A field failed validation, or neither avatar_image nor avatar was sent (FastAPI’s list); a photo ' +
        `with no face or several, a video with no face in any frame, an avatar_video in NewAvata mode ` +
        `(video_avatar_not_supported), or a language the engine cannot speak (the plain detail)${also}`,
      body: 'either',
      example: {
        detail: [
          {
            type: 'missing',
            loc: ['body', 'avatar_image'],
            msg: 'send avatar_image (a photo), avatar_video (a short video) or avatar (a name from /video/avatars)',
          },
        ],
      },
    },
  };
}

/** What rendering can meet before the answer starts. */
const RENDER_ERRORS: Record<number, ErrorSpec> = {
  404: 'ref_audio names no file in REF_AUDIO_DIR, or avatar names no avatar',
  499: TIMED_OUT,
  502: 'NewAvata failed, or its video would not speak with the cloned voice (voice_substituted)',
  503: 'The video queue is full (Retry-After), or the speech model is not installed or loaded',
};

const SEED_HEADER: DocHeader = {
  description: 'The seed used, when the engine honours it',
  schema: { type: 'integer' },
};

const form = (schema: typeof videoFormDocSchema) => ({ schema, examples: FORM_EXAMPLES });

export const videoAvatarsDocs: RouteDocs = {
  responses: {
    200: json('Avatars a request may name', avatarListSchema, { avatars: ['interviewer.jpg'] }),
    ...errors({ 502: 'NewAvata could not list its avatars' }),
  },
};

export const videoGenerateDocs: RouteDocs = {
  form: form(videoFormDocSchema),
  responses: {
    200: {
      description: 'The lip-synced MP4 (H.264 + AAC, 25 fps)',
      content: { 'video/mp4': { schema: BINARY } },
      headers: {
        'X-Generation-Time': { description: 'Seconds, speech included', schema: { type: 'number' } },
        'X-TTS-Time': { description: 'Seconds the speech took', schema: { type: 'number' } },
        'X-Avatar-Used': { description: 'The avatar rendered (URI-encoded)', schema: { type: 'string' } },
        'X-Avatar-Notice': {
          description: 'What was not used as asked (URI-encoded, |-separated)',
          schema: { type: 'string' },
        },
        'X-Seed': SEED_HEADER,
        'X-Ignored': { description: 'Settings the engine could not honour', schema: { type: 'string' } },
        'X-Cache': {
          description:
            '`hit` when the MP4 is a stored render of an identical request (same text, voice, seed, avatar and models; VIDEO_CACHE_MB)',
          schema: { type: 'string' },
        },
        'X-Voice-Fallback': {
          description: 'Why the video speaks with another voice, when that was allowed (URI-encoded)',
          schema: { type: 'string' },
        },
        'X-Reference-Warnings': SPEECH_HEADERS['X-Reference-Warnings'],
      },
    },
    ...errors({ ...formErrors(), ...RENDER_ERRORS }),
  },
};

const SSE_EXAMPLE = [
  'event: meta',
  'data: {"status":"rendering","seed":123,"ignored":[]}',
  '',
  'event: progress',
  'data: {"stage":"tts","fraction":0,"elapsed":0.002}',
  '',
  'event: progress',
  'data: {"stage":"lipsync","fraction":0.2,"elapsed":2.4}',
  '',
  'event: playable',
  'data: {"playlist_url":"/video/streams/7d3e9a52-1c4b-4f0e-8a6d-2b9c5e1f3a70/index.m3u8","elapsed":2.5}',
  '',
  'event: progress',
  'data: {"stage":"lipsync","fraction":0.5,"elapsed":3.1}',
  '',
  'event: done',
  'data: {"video_url":"/video/files/0b6f7c1e-8d1a-4d59-9a43-2f1e4b7c9d10.mp4","expires_in":3600,"bytes":482113,"avatar_used":"interviewer.jpg","notices":[],"reference_warnings":[],"ignored":[],"elapsed":{"tts":1.2,"total":6.8}}',
  '',
  '',
].join('\n');

export const videoGenerateSseDocs: RouteDocs = {
  form: form(videoFormDocSchema),
  responses: {
    200: {
      description:
        'Server-Sent Events. Bad input is a plain 4xx before the stream starts; a failure after that ' +
        '(a 507 when the video cannot be stored) is an `error` event.',
      content: {
        'text/event-stream': eventStream(
          'Progress while the video renders, then where to download it.',
          {
            meta: { description: 'first', data: videoSseEvents.meta },
            progress: { description: 'as the work advances', data: videoSseEvents.progress },
            playable: {
              description:
                'once, when the live HLS stream has its first segment (engines that can stream: the ' +
                'embedded MuseTalk; never for NewAvata); play playlist_url while the render goes on',
              data: videoSseEvents.playable,
            },
            done: { description: 'the video is ready at video_url', data: videoSseEvents.done },
            error: { description: 'rendering failed; the stream ends', data: videoSseEvents.error },
          },
          SSE_EXAMPLE,
        ),
      },
      headers: { 'X-Seed': SEED_HEADER },
    },
    ...errors({ ...formErrors(), ...RENDER_ERRORS }),
  },
};

export const videoFileDocs: RouteDocs = {
  responses: {
    200: {
      description: 'The MP4 (Range requests are answered 206, so a <video> element can seek)',
      content: { 'video/mp4': { schema: BINARY } },
    },
    206: { description: 'The part a Range header asked for', content: { 'video/mp4': { schema: BINARY } } },
    ...errors({
      404: {
        description: 'Never rendered here, or expired (VIDEO_OUTPUT_KEEP_S)',
        example: {
          detail:
            'no such video: it was never rendered here or has expired (VIDEO_OUTPUT_KEEP_S); render it again',
          code: 'video_not_found',
        },
      },
      416: 'A Range outside the file',
    }),
  },
};

export const videoStreamDocs: RouteDocs = {
  responses: {
    200: {
      description:
        'index.m3u8: the HLS playlist (an EVENT playlist that grows while the video renders and ends ' +
        'with #EXT-X-ENDLIST; never cached); init.mp4 and segment-NNNNN.m4s: its fMP4 init and media ' +
        'segments (H.264 + AAC, about 1 s each)',
      content: {
        'application/vnd.apple.mpegurl': { schema: { type: 'string' } },
        'video/mp4': { schema: BINARY },
        'video/iso.segment': { schema: BINARY },
      },
    },
    ...errors({
      404: {
        description:
          'Not a stream file name, never streamed here, or expired (VIDEO_OUTPUT_KEEP_S after its last segment)',
        example: {
          detail:
            'no such stream file: the stream was never made here or has expired (VIDEO_OUTPUT_KEEP_S); download the MP4 or render again',
          code: 'stream_not_found',
        },
      },
    }),
  },
};

const JOB_EXAMPLE = {
  job_id: '5f0c2a8e-3b7d-4c1f-9e2a-6d8b1c4f7a90',
  status: 'running',
  created_at: '2025-03-01T06:00:00.000Z',
  updated_at: '2025-03-01T06:00:03.100Z',
  progress: { stage: 'lipsync', fraction: 0.5 },
};

const JOB_NOT_FOUND: ErrorSpec = {
  description: 'No such job: it never existed here, or it expired (VIDEO_OUTPUT_KEEP_S)',
  example: {
    detail: `no video job ${JOB_EXAMPLE.job_id}: it never existed here, or it expired (VIDEO_OUTPUT_KEEP_S)`,
    code: 'job_not_found',
  },
};

export const videoJobSubmitDocs: RouteDocs = {
  form: { schema: videoJobFormDocSchema, examples: FORM_EXAMPLES },
  responses: {
    202: {
      ...json('Accepted: poll status_url, or wait for the callback', submittedJobSchema, {
        ...JOB_EXAMPLE,
        status: 'queued',
        progress: null,
        status_url: `/video/jobs/${JOB_EXAMPLE.job_id}`,
      }),
      headers: { Location: { description: 'The job’s status URL', schema: { type: 'string' } } },
    },
    ...errors({
      ...formErrors('; a callback_url that is not an http(s) URL'),
      503: 'QUEUE_MAX_PENDING + 1 jobs are already waiting or running (Retry-After)',
    }),
  },
  callbacks: {
    finished: {
      '{$request.body#/callback_url}': {
        post: {
          requestBody: {
            // @fastify/swagger keeps only requestBody and responses of a callback: the story goes here.
            description:
              'When the job ends: its state (as GET /video/jobs/{id} answers), with X-Timestamp and, when ' +
              'WEBHOOK_SECRET is set, X-Signature: sha256=<hex HMAC-SHA256 of "<X-Timestamp>.<body>">. ' +
              'Retried on network errors, 429 and 5xx (three attempts).',
            content: { 'application/json': { schema: toOpenApiSchema(videoJobStateSchema, 'output') } },
          },
          responses: { '2XX': { description: 'Received' } },
        },
      },
    },
  },
};

export const videoJobDocs: RouteDocs = {
  responses: {
    200: json(
      'The job’s state; once succeeded, the video’s fields (video_url …) too',
      videoJobStateSchema,
      JOB_EXAMPLE,
    ),
    ...errors({ 404: JOB_NOT_FOUND }),
  },
};

export const videoJobCancelDocs: RouteDocs = {
  responses: {
    200: json(
      'The job’s state when the cancel was asked (a finished job is left as it is; it becomes cancelled shortly)',
      videoJobStateSchema,
      JOB_EXAMPLE,
    ),
    ...errors({ 404: JOB_NOT_FOUND }),
  },
};
