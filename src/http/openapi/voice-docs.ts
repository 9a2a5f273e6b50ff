import { z } from 'zod';
import { listedVoiceSchema } from '../schemas/speech-response-schemas.ts';
import { errors, example, json } from './responses.ts';
import type { RouteDocs } from './route-docs.ts';
import { SEED_EXAMPLE } from './tts-docs.ts';

/** vLLM-Omni's upload fields, as POST /v1/audio/voices reads them (every part is text, or a file). */
const voiceUploadSchema = z.object({
  audio_sample: z
    .file()
    .describe('The recording: WAV, MP3, FLAC, OGG, M4A or WebM; 3–10 s of speech works best'),
  name: z.string().describe('1–64 letters, digits, spaces, _ - ( ); no dots or slashes'),
  ref_text: z
    .string()
    .optional()
    .describe('Its transcript; without it the voice clones from the speaker embedding'),
  overwrite: z.boolean().default(false).describe('true replaces a voice of that name (otherwise a 409)'),
  consent: z.string().optional().describe('Accepted, not stored'),
});

const VOICE = {
  id: 'interviewer',
  name: 'interviewer',
  file: 'interviewer.mp3',
  has_transcript: true,
  ref_text: SEED_EXAMPLE.ref_text,
};

export const voiceUploadDocs: RouteDocs = {
  openAiErrors: true,
  form: {
    schema: voiceUploadSchema,
    examples: {
      interviewer: example(
        { name: 'interviewer', ref_text: SEED_EXAMPLE.ref_text },
        'A voice with its transcript, cloned in ICL mode (the recording goes in audio_sample)',
      ),
    },
  },
  responses: {
    201: json(
      'Saved: the voice as GET /v1/audio/voices lists it, its length and advice on the recording',
      z.object({
        success: z.literal(true),
        voice: listedVoiceSchema.extend({
          duration_s: z.number().describe('Seconds'),
          warnings: z
            .array(z.string())
            .describe('Why it may clone badly: clipping, noise, too little speech'),
        }),
      }),
      { success: true, voice: { ...VOICE, duration_s: 4.2, warnings: [] } },
    ),
    ...errors(
      {
        400: 'A form that cannot be read, or a file part other than audio_sample',
        409: {
          description: 'A voice of that name exists and overwrite is not true',
          example: {
            detail:
              'a voice named "interviewer" already exists (interviewer.mp3): choose another name, or send overwrite=true to replace it',
            code: 'voice_exists',
          },
        },
        413: 'audio_sample over REF_AUDIO_MAX_BYTES, ref_text over MAX_REF_TEXT_LENGTH, or more than one file',
        415: {
          description: 'Not multipart/form-data',
          example: {
            detail:
              'send the voice as multipart/form-data: curl -F audio_sample=@voice.wav -F name=interviewer -F "ref_text=…"',
            code: 'not_multipart',
          },
        },
        422: {
          description:
            'audio_sample or name is missing, the name is not allowed, or the recording is not usable ' +
            '(undecodable, too short or too long)',
          body: 'detail',
          example: {
            detail: 'send name: curl -F audio_sample=@voice.wav -F name=interviewer -F "ref_text=…"',
            code: 'missing_field',
          },
        },
      },
      true,
    ),
  },
};

export const voiceDeleteDocs: RouteDocs = {
  openAiErrors: true,
  responses: {
    200: json(
      'Deleted: its audio and transcript are gone from REF_AUDIO_DIR',
      z.object({ success: z.literal(true), message: z.string(), voice: listedVoiceSchema }),
      { success: true, message: "Voice 'interviewer' deleted", voice: VOICE },
    ),
    ...errors(
      {
        404: {
          description: 'No voice of that name',
          example: {
            detail:
              'no voice named "interviewr": voices are the audio files in REF_AUDIO_DIR (interviewer). ' +
              'Add one on the try-it page (/ui) …',
            code: 'unknown_voice',
          },
        },
      },
      true,
    ),
  },
};
