import type { FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { VideoJob, VideoService } from '../../core/video-service.ts';
import type { AvatarSource } from '../../engines/interfaces/lipsync-engine.ts';
import { InvalidInputError } from '../../errors.ts';
import { RequestValidationError } from '../errors/request-validation-error.ts';
import { videoFormSchema } from '../schemas/video-schemas.ts';
import { readMultipartForm } from './multipart-form.ts';
import { modelKeyForSize, speechJobFromBody } from './speech-job-from-body.ts';

interface ParsedForm {
  fields: Record<string, string>;
  avatarImage?: { bytes: Buffer; fileName: string };
  avatarVideo?: { bytes: Buffer; fileName: string };
}

/** What the form needs from the server: its upload limits, and the engine's say on the avatar. */
export interface VideoFormContext {
  /** VIDEO_MAX_UPLOAD_BYTES: a photo or a recording. */
  fileBytes: number;
  /** VIDEO_AVATAR_MAX_BYTES: a video (the multipart limit is the larger of the two). */
  videoBytes: number;
  /** The engine's refusal of an avatar it cannot render (VideoService.checkAvatar). */
  checkAvatar: (avatar: AvatarSource) => Promise<void>;
}

export function videoFormContext(
  config: Pick<Config, 'VIDEO_MAX_UPLOAD_BYTES' | 'VIDEO_AVATAR_MAX_BYTES'>,
  video: Pick<VideoService, 'checkAvatar'>,
): VideoFormContext {
  return {
    fileBytes: config.VIDEO_MAX_UPLOAD_BYTES,
    videoBytes: config.VIDEO_AVATAR_MAX_BYTES,
    checkAvatar: (avatar) => video.checkAvatar(avatar),
  };
}

/** Reads the multipart form; file parts are size-capped by the multipart plugin's limits and ours. */
async function readForm(request: FastifyRequest, context: VideoFormContext): Promise<ParsedForm> {
  const form: ParsedForm = { fields: {} };
  let refAudio: string | undefined;
  form.fields = await readMultipartForm(request, {
    what: 'the video form',
    howToSend: 'curl -F field=value -F avatar_image=@photo.jpg',
    whichFiles: 'send avatar_image or avatar_video and, optionally, ref_audio',
    onFile: async (part) => {
      const bytes = await part.toBuffer();
      const video = part.fieldname === 'avatar_video';
      const [limit, variable] = video
        ? [context.videoBytes, 'VIDEO_AVATAR_MAX_BYTES']
        : [context.fileBytes, 'VIDEO_MAX_UPLOAD_BYTES'];
      if (part.file.truncated || bytes.length > limit) {
        throw new InvalidInputError(
          `${part.fieldname} is larger than the upload limit of ${limit} bytes (${variable})`,
          { statusCode: 413, code: 'upload_too_large' },
        );
      }
      if (part.fieldname === 'avatar_image')
        form.avatarImage = { bytes, fileName: part.filename || 'upload' };
      else if (video) form.avatarVideo = { bytes, fileName: part.filename || 'upload' };
      else if (part.fieldname === 'ref_audio') refAudio = bytes.toString('base64');
      else
        throw new InvalidInputError(
          `unexpected file field ${part.fieldname}: send avatar_image or avatar_video (and optionally ref_audio)`,
        );
    },
  });
  // An uploaded ref_audio travels as base64 text, as the JSON routes take it.
  if (refAudio !== undefined) form.fields.ref_audio = refAudio;
  return form;
}

/**
 * The avatar the form names: an uploaded photo or video (not both), else a name. A name may come with
 * an upload: engines that cannot use photos (NewAvata) render the named avatar instead.
 */
function avatarFromForm(form: ParsedForm, name: string | undefined): AvatarSource {
  if (form.avatarImage && form.avatarVideo)
    throw new InvalidInputError(
      'send avatar_image or avatar_video, not both: the face comes from one of them',
      {
        code: 'two_avatars',
      },
    );
  const named = name ? { name } : {};
  if (form.avatarImage) return { kind: 'image', ...form.avatarImage, ...named };
  if (form.avatarVideo) return { kind: 'video', ...form.avatarVideo, ...named };
  if (name) return { kind: 'named', name };
  throw new RequestValidationError([
    {
      type: 'missing',
      loc: ['body', 'avatar_image'],
      msg: 'send avatar_image (a photo), avatar_video (a short video) or avatar (a name from /video/avatars)',
    },
  ]);
}

/** Reads and checks the multipart form: every input error is a 4xx before any work starts. */
export async function videoJobFromRequest(
  request: FastifyRequest,
  context: VideoFormContext,
  options: { extraFields?: string[] } = {},
): Promise<{ job: VideoJob; extra: Record<string, string> }> {
  const form = await readForm(request, context);
  // Fields only some routes take (callback_url) are taken out before the shared form is checked.
  const extra: Record<string, string> = {};
  for (const name of options.extraFields ?? []) {
    if (form.fields[name] !== undefined) extra[name] = form.fields[name];
    delete form.fields[name];
  }
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
  const avatar = avatarFromForm(form, body.avatar);
  await context.checkAvatar(avatar);
  const speech = speechJobFromBody(
    {
      text: body.text,
      language: body.language,
      ref_audio: body.ref_audio,
      ref_text: body.ref_text,
      x_vector_only_mode: body.x_vector_only_mode,
      split_sentences: body.split_sentences,
      seed: body.seed,
      generation_params: {},
      normalize: body.normalize,
      pronunciations: body.pronunciations,
    },
    modelKeyForSize(body.model_size),
    // The lip-sync engine needs the whole audio before it renders anything.
    { streaming: false },
  );
  return {
    job: { speech: { ...speech, client: request.ip }, avatar, sentFields: Object.keys(form.fields) },
    extra,
  };
}
