import { z } from 'zod';
import { SPEECH_FORMATS } from '../../media/speech-encoder.ts';
import type { ModelKey } from '../../engines/interfaces/tts-engine.ts';
import { languageSchema, voiceCloneBodySchema } from './tts-schemas.ts';

/** Model names an OpenAI client may send, and the Base model each one means. */
export const OPENAI_MODELS: Record<string, ModelKey> = {
  'base_0.6b': 'base_0.6b',
  '0.6b': 'base_0.6b',
  'base_1.7b': 'base_1.7b',
  '1.7b': 'base_1.7b',
  // OpenAI's own names, so that clients configured for OpenAI work unchanged: the small model for the
  // fast names, the large one for the quality name.
  'tts-1': 'base_0.6b',
  'gpt-4o-mini-tts': 'base_0.6b',
  'tts-1-hd': 'base_1.7b',
};

/**
 * OpenAI's POST /v1/audio/speech body, with vLLM-Omni's extensions for cloning (`ref_audio`,
 * `ref_text`, `language`, `x_vector_only_mode`, `seed`) and ours (`normalize`, `pronunciations`).
 */
export const openAiSpeechBodySchema = z.object({
  model: z
    .string()
    .default('base_0.6b')
    .refine((model) => model.trim().toLowerCase() in OPENAI_MODELS, {
      message: `model must be one of: ${Object.keys(OPENAI_MODELS).join(', ')}`,
    })
    .transform((model) => OPENAI_MODELS[model.trim().toLowerCase()]),
  input: z.string({ error: () => 'input is required: the text to speak' }),
  voice: z
    .union([z.string(), z.object({ id: z.string() }).transform((voice) => voice.id)], {
      error: () => 'voice must be a voice name (GET /v1/audio/voices) or {"id": name}',
    })
    .optional()
    .describe('A voice from GET /v1/audio/voices: an audio file in REF_AUDIO_DIR, its transcript beside it'),
  response_format: z
    .enum(SPEECH_FORMATS, { error: () => `response_format must be one of: ${SPEECH_FORMATS.join(', ')}` })
    .default('mp3'),
  speed: z
    .number({ error: () => 'speed must be a number from 0.25 to 4' })
    .min(0.25, 'speed must be a number from 0.25 to 4')
    .max(4, 'speed must be a number from 0.25 to 4')
    .default(1)
    .describe('Tempo of the speech (pitch unchanged), 0.25–4'),
  stream_format: z
    .enum(['audio', 'sse'], { error: () => 'stream_format must be audio or sse' })
    .default('audio'),
  instructions: z.string().max(4096).optional().describe('Not followed by the Base models (see X-Ignored)'),
  language: languageSchema.default('Auto'),
  ref_audio: z.string().optional().describe('Instead of voice: a reference as /tts/voice_clone takes it'),
  ref_text: z.string().optional(),
  x_vector_only_mode: z.boolean().optional(),
  seed: voiceCloneBodySchema.shape.seed,
  normalize: voiceCloneBodySchema.shape.normalize,
  pronunciations: voiceCloneBodySchema.shape.pronunciations,
});
export type OpenAiSpeechBody = z.infer<typeof openAiSpeechBodySchema>;
