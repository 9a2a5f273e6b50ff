import { z } from 'zod';
import { LANGUAGES } from '../../engines/interfaces/tts-engine.ts';
import { streamErrorSchema } from './error-schemas.ts';
import { videoFormSchema } from './video-schemas.ts';

/*
 * What the video routes take and answer, as /openapi.json documents them. The form is read by
 * video-form.ts with videoFormSchema; this is that schema as a client fills the form in (every part
 * is text, or a file).
 */

export const videoFormDocSchema = videoFormSchema.extend({
  text: videoFormSchema.shape.text.describe('The words to speak'),
  language: z.enum(LANGUAGES).default('Korean'),
  ref_audio: videoFormSchema.shape.ref_audio.describe(
    'Reference speech: a file name in REF_AUDIO_DIR, an http(s) URL or base64; or upload the recording ' +
      'as a file part of this name',
  ),
  ref_text: videoFormSchema.shape.ref_text.describe(
    'Transcript of the reference (used when x_vector_only_mode=false)',
  ),
  avatar_image: z
    .file()
    .optional()
    .describe(
      'A photo with one face (JPEG, PNG or WebP; VIDEO_MAX_UPLOAD_BYTES, VIDEO_MAX_PIXELS). This or avatar',
    ),
  avatar_video: z
    .file()
    .optional()
    .describe(
      'Instead of avatar_image: a short video of one face (MP4, MOV or WebM; VIDEO_AVATAR_MAX_BYTES, ' +
        'VIDEO_AVATAR_MAX_SECONDS, VIDEO_AVATAR_MAX_FRAMES, VIDEO_AVATAR_MAX_PIXELS), played forward then ' +
        'backward under the speech; frames without a face are shown unchanged (X-Avatar-Notice says how many). ' +
        'Not with NewAvata (422)',
    ),
  avatar: z
    .string()
    .optional()
    .describe('Instead of an upload: a name from GET /video/avatars (a photo or a video)'),
  x_vector_only_mode: z
    .boolean()
    .default(true)
    .describe('Clone from the speaker embedding alone (the seed’s default)'),
  seed: videoFormSchema.shape.seed.describe('0–2147483647; left out: random'),
  pronunciations: z
    .string()
    .optional()
    .describe('A per-request lexicon as a JSON object, e.g. {"Qwen": "큐웬"}'),
  split_sentences: z
    .boolean()
    .nullable()
    .optional()
    .describe('true, false, or left out (null): split when there are several'),
});

export const videoJobFormDocSchema = videoFormDocSchema.extend({
  callback_url: z
    .string()
    .optional()
    .describe(
      'Where to POST the job’s state when it ends (signed with WEBHOOK_SECRET); http(s), not a private address',
    ),
});

export const avatarListSchema = z.object({
  avatars: z.array(z.string()).describe('Names an `avatar` field may give'),
});

/** A rendered video once kept: the SSE `done` event and a succeeded job. */
export const keptVideoSchema = z.object({
  video_url: z.string().describe('GET it within expires_in seconds: /video/files/<id>.mp4'),
  expires_in: z.number().int().describe('VIDEO_OUTPUT_KEEP_S'),
  bytes: z.number().int(),
  avatar_used: z.string(),
  notices: z.array(z.string()).describe('What was not used as asked'),
  reference_warnings: z.array(z.string()),
  ignored: z.array(z.string()).describe('Settings the engine could not honour'),
  voice_fallback: z
    .string()
    .optional()
    .describe('Why the video speaks with another voice, when that was allowed'),
  elapsed: z.object({ tts: z.number(), total: z.number() }).describe('Seconds'),
  from_cache: z
    .literal(true)
    .optional()
    .describe('Present when the video is a stored render of an identical request (nothing was computed)'),
});

export const progressSchema = z.object({
  stage: z
    .string()
    .describe(
      'tts, avatar, features, lipsync, encode; cache when a stored render answers (NewAvata: its own stages)',
    ),
  fraction: z.number().nullable().describe('0–1 within the stage, when known'),
});

export const videoSseEvents = {
  meta: z.object({
    status: z.literal('rendering'),
    seed: z.number().int().optional().describe('When the engine honours it'),
    ignored: z.array(z.string()),
  }),
  progress: progressSchema.extend({ elapsed: z.number().describe('Seconds since the start') }),
  playable: z.object({
    playlist_url: z
      .string()
      .describe(
        'The live HLS playlist (fMP4 segments) of the video being rendered: /video/streams/<id>/index.m3u8',
      ),
    elapsed: z.number().describe('Seconds since the start'),
  }),
  done: keptVideoSchema,
  error: streamErrorSchema,
};

const jobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);

export const videoJobStateSchema = keptVideoSchema.partial().extend({
  job_id: z.string().describe('A UUID'),
  status: jobStatus,
  created_at: z.string().describe('ISO 8601'),
  updated_at: z.string().describe('ISO 8601'),
  progress: progressSchema.nullable(),
  error: streamErrorSchema.optional().describe('Why it failed or was cancelled'),
  playlist_url: z
    .string()
    .optional()
    .describe(
      'Set once the live HLS stream of the rendering video has its first segment (engines that can stream: the embedded MuseTalk)',
    ),
});

export const submittedJobSchema = videoJobStateSchema.extend({
  status_url: z.string().describe('Where to poll: /video/jobs/<job_id>'),
});
