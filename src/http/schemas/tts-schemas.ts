import { z } from 'zod';
import { LANGUAGES, type Language } from '../../engines/interfaces/tts-engine.ts';
import { laxBoolean, laxInteger, laxNumber } from './pydantic-lax.ts';

/** Languages are matched without regard to case ("korean" works), as the Python server did. */
export const languageSchema = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    const match = LANGUAGES.find((language) => language.toLowerCase() === value.trim().toLowerCase());
    return match ?? value;
  },
  z.enum(LANGUAGES, { error: () => `language must be one of: ${LANGUAGES.join(', ')}` }),
) as z.ZodType<Language>;

const stringOrList = (name: string, maxItems: number) =>
  z.union(
    [
      z.string(),
      z
        .array(z.string())
        .min(1, `${name} must not be an empty list`)
        .max(maxItems, `${name} may hold at most ${maxItems} items`),
    ],
    { error: () => `${name} must be a string or a list of strings` },
  );

/**
 * The seed's generation_params, with its bounds. A field left out takes the model's own default (its
 * generation_config: temperature 0.9, top_k 50, top_p 1.0, repetition_penalty 1.05, do_sample true and
 * max_new_tokens 8192 for the released checkpoints, capped by TTS_MAX_NEW_TOKENS), as the official
 * code does. The code predictor ("sub-talker") has its own settings under the official names.
 */
export const generationParamsSchema = z.object({
  max_new_tokens: laxInteger({ min: 1, max: 8192 })
    .optional()
    .describe(
      'Most codec frames (80 ms each) per sentence; default: the model’s, capped by TTS_MAX_NEW_TOKENS',
    ),
  temperature: laxNumber(z.number().min(0).max(2)).optional(),
  top_k: laxInteger({ min: 1, max: 100 }).optional(),
  top_p: laxNumber(z.number().min(0).max(1)).optional().describe('0 keeps only the most likely token'),
  repetition_penalty: laxNumber(z.number().min(1).max(2)).optional(),
  do_sample: laxBoolean().optional(),
  subtalker_dosample: laxBoolean().optional().describe('Sample the 15 residual codes of each frame'),
  subtalker_top_k: laxInteger({ min: 1, max: 2048 }).optional(),
  subtalker_top_p: laxNumber(z.number().min(0).max(1)).optional(),
  subtalker_temperature: laxNumber(z.number().min(0).max(2)).optional(),
});
export type GenerationParams = z.infer<typeof generationParamsSchema>;

export const MAX_LIST_ITEMS = 32;

/**
 * Any integer, as the seed took: a negative one (the usual `-1`) or null means a random seed;
 * values past the engines' 31-bit range are folded into it.
 */
const seedSchema = laxInteger()
  .nullable()
  .optional()
  .transform((value) => {
    if (value === undefined) return undefined;
    return value === null || value < 0 ? null : value % 2 ** 31;
  })
  .describe('Same seed, same settings → same audio; null or negative (-1): random');

export const voiceCloneBodySchema = z.object({
  text: stringOrList('text', MAX_LIST_ITEMS).describe('Text to speak, or a list of texts (answered as JSON)'),
  language: z
    .union([languageSchema, z.array(languageSchema).min(1).max(MAX_LIST_ITEMS)])
    .default('Auto')
    .describe('One language for all texts, or a list with one per text'),
  ref_audio: stringOrList('ref_audio', MAX_LIST_ITEMS).describe(
    'Reference speech: a file name inside REF_AUDIO_DIR, an http(s) URL, or base64 / a data: URL',
  ),
  ref_text: z
    .union([z.string(), z.array(z.string()).max(MAX_LIST_ITEMS)])
    .nullable()
    .optional()
    .describe('Transcript of the reference speech (required unless x_vector_only_mode is true)'),
  x_vector_only_mode: laxBoolean().default(false),
  split_sentences: laxBoolean()
    .nullable()
    .default(null)
    .describe('true: split, false: one piece, null: auto'),
  seed: seedSchema,
  generation_params: generationParamsSchema
    .nullable()
    .default({})
    .transform((value) => value ?? {})
    .describe('null or left out: the model’s defaults'),
  normalize: laxBoolean().default(true).describe('Read numbers, dates and symbols as words before synthesis'),
  pronunciations: z
    .record(z.string().min(1).max(100), z.string().max(200))
    .refine((value) => Object.keys(value).length <= 500, 'pronunciations may hold at most 500 entries')
    .optional()
    .describe('Per-request lexicon, e.g. {"Qwen": "큐웬"}'),
});
export type VoiceCloneBody = z.infer<typeof voiceCloneBodySchema>;

const modelSizeSchema = z.preprocess(
  (value) => (typeof value === 'string' ? value.trim().toLowerCase() : value),
  z.enum(['0.6b', '1.7b'], { error: () => 'model_size must be 0.6b or 1.7b' }),
);

export const voiceCloneQuerySchema = z.object({
  model_size: modelSizeSchema.default('0.6b'),
});

export const voiceCloneSseQuerySchema = voiceCloneQuerySchema.extend({
  streaming: laxBoolean().default(true),
});

export const normalizeBodySchema = z.object({
  text: z.string(),
  language: languageSchema.default('Auto'),
  pronunciations: voiceCloneBodySchema.shape.pronunciations,
  split_sentences: laxBoolean().nullable().default(null),
});
