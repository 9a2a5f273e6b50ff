import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { NamedVoice, VoiceLibrary } from '../../core/voice-library.ts';
import { InvalidInputError } from '../../errors.ts';
import { RequestValidationError } from '../errors/request-validation-error.ts';
import { readMultipartForm } from '../requests/multipart-form.ts';
import { formBoolean } from '../schemas/form-boolean.ts';
import { requestSignal } from '../requests/request-signal.ts';
import { voiceDeleteDocs, voiceUploadDocs } from '../openapi/voice-docs.ts';

export interface VoiceRoutesOptions {
  voices: VoiceLibrary;
  requestTimeoutMs: number;
}

/** A voice as GET /v1/audio/voices lists it. */
export function listedVoice(voice: NamedVoice) {
  return {
    id: voice.name,
    name: voice.name,
    file: voice.file,
    has_transcript: voice.transcript !== undefined,
    ...(voice.transcript !== undefined ? { ref_text: voice.transcript } : {}),
  };
}

interface VoiceForm {
  fields: Record<string, string>;
  audio?: Buffer;
}

/** Reads the upload form; the audio is capped at the library's limit while it arrives. */
async function readVoiceForm(request: FastifyRequest, maxBytes: number): Promise<VoiceForm> {
  let audio: Buffer | undefined;
  const fields = await readMultipartForm(request, {
    what: 'the voice',
    howToSend: 'curl -F audio_sample=@voice.wav -F name=interviewer -F "ref_text=…"',
    whichFiles: 'send one file, audio_sample',
    limits: { fileSize: maxBytes, files: 1 },
    onFile: async (part) => {
      if (part.fieldname !== 'audio_sample') {
        await part.toBuffer().catch(() => undefined);
        throw new InvalidInputError(
          `unexpected file field ${part.fieldname}: send the recording as audio_sample`,
          { code: 'unexpected_file' },
        );
      }
      audio = await part.toBuffer().catch((error: unknown) => {
        if ((error as { code?: string }).code !== 'FST_REQ_FILE_TOO_LARGE') throw error;
        throw new InvalidInputError(
          `audio_sample is larger than ${maxBytes} bytes (REF_AUDIO_MAX_BYTES): send a shorter recording (3–10 s of speech works best)`,
          { statusCode: 413, code: 'ref_audio_too_large' },
        );
      });
    },
  });
  return { fields, audio };
}

/** `overwrite`: a yes/no; a value that is neither is refused, not taken for no. */
function readOverwrite(value: string | undefined): boolean {
  const parsed = formBoolean(false).safeParse(value);
  if (parsed.success) return parsed.data;
  throw new RequestValidationError([
    { type: 'bool_parsing', loc: ['body', 'overwrite'], msg: `overwrite ${parsed.error.issues[0].message}` },
  ]);
}

/**
 * Saving and deleting named voices (the files GET /v1/audio/voices lists), with vLLM-Omni's upload
 * fields: `audio_sample` (the recording), `name`, `ref_text` (its transcript) and `consent` (accepted,
 * not stored). Registered inside the OpenAI routes, so errors carry OpenAI's error object too.
 */
export const voiceRoutes: FastifyPluginAsync<VoiceRoutesOptions> = async (app, options) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { voices } = options;

  routes.post(
    '/v1/audio/voices',
    {
      schema: {
        summary: 'Save a recording and its transcript as a named voice',
        description:
          'multipart/form-data (vLLM-Omni’s upload fields): `audio_sample` (WAV, MP3, FLAC, OGG, M4A or ' +
          'WebM; REF_AUDIO_MIN_SECONDS–REF_AUDIO_MAX_SECONDS long, at most REF_AUDIO_MAX_BYTES), `name` ' +
          '(letters, digits, spaces, _ - ( ); no dots), `ref_text` (the transcript; without it the voice ' +
          'clones from the speaker embedding alone), `overwrite` (true replaces a voice of that name; ' +
          'otherwise that is a 409), `consent` (accepted, not stored). Stored in REF_AUDIO_DIR as ' +
          '<name>.<format> and <name>.txt. Answers 201 with the voice as GET /v1/audio/voices lists it.',
        tags: ['openai'],
        // The form is documented (docs.form), not validated by Fastify: readVoiceForm reads it.
        docs: voiceUploadDocs,
      },
    },
    async (request, reply) => {
      const form = await readVoiceForm(request, voices.maxBytes);
      const missing = [
        ...(form.audio ? [] : ['audio_sample (the recording, a file)']),
        ...(form.fields.name?.trim() ? [] : ['name']),
      ];
      if (missing.length > 0) {
        throw new InvalidInputError(
          `send ${missing.join(' and ')}: curl -F audio_sample=@voice.wav -F name=interviewer -F "ref_text=…"`,
          { statusCode: 422, code: 'missing_field' },
        );
      }
      const saved = await voices.save(
        {
          name: form.fields.name,
          audio: form.audio!,
          transcript: form.fields.ref_text,
          overwrite: readOverwrite(form.fields.overwrite),
        },
        requestSignal(request, reply, options.requestTimeoutMs),
      );
      request.log.info(`saved voice ${JSON.stringify(saved.name)} as ${saved.file}`);
      return reply.status(201).send({
        success: true,
        voice: {
          ...listedVoice(saved),
          duration_s: Math.round(saved.seconds * 100) / 100,
          warnings: saved.warnings,
        },
      });
    },
  );

  routes.delete(
    '/v1/audio/voices/:name',
    {
      schema: {
        summary: 'Delete a named voice (its audio and transcript)',
        tags: ['openai'],
        params: z.object({ name: z.string() }),
        docs: voiceDeleteDocs,
      },
    },
    async (request) => {
      const removed = await voices.remove(request.params.name);
      request.log.info(`deleted voice ${JSON.stringify(removed.name)}`);
      return { success: true, message: `Voice '${removed.name}' deleted`, voice: listedVoice(removed) };
    },
  );
};
