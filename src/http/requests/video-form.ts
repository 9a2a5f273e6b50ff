import type { FastifyRequest } from 'fastify';
import type { VideoJob } from '../../core/video-service.ts';
import type { AvatarSource } from '../../engines/interfaces/lipsync-engine.ts';
import { InvalidInputError, ServerError } from '../../errors.ts';
import { RequestValidationError } from '../errors/request-validation-error.ts';
import { videoFormSchema } from '../schemas/video-schemas.ts';
import { modelKeyForSize, speechJobFromBody } from './speech-job-from-body.ts';

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

/** Reads and checks the multipart form: every input error is a 4xx before any work starts. */
export async function videoJobFromRequest(
  request: FastifyRequest,
  options: { extraFields?: string[] } = {},
): Promise<{ job: VideoJob; extra: Record<string, string> }> {
  const form = await readForm(request);
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
  let avatar: AvatarSource;
  // Both may come: engines that cannot use photos (NewAvata) render the named avatar instead.
  if (form.avatarImage)
    avatar = { kind: 'image', ...form.avatarImage, ...(body.avatar ? { name: body.avatar } : {}) };
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
