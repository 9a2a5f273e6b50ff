import { z } from 'zod';
import { formBoolean } from './form-boolean.ts';
import { languageSchema } from './tts-schemas.ts';

/** The seed's multipart form for /video/generate (fields arrive as strings). */
export const videoFormSchema = z.object({
  text: z.string({ error: () => 'text is required' }).min(1, 'text is empty: send the words to speak'),
  language: languageSchema.default('Korean'),
  ref_audio: z.string({ error: () => 'ref_audio is required' }).min(1),
  ref_text: z.string().default(''),
  model_size: z.preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase() : value),
    z.enum(['0.6b', '1.7b'], { error: () => 'model_size must be 0.6b or 1.7b' }).default('0.6b'),
  ),
  x_vector_only_mode: formBoolean(true),
  /** An avatar in VIDEO_AVATAR_DIR (or a NewAvata avatar id) instead of an upload. */
  avatar: z.string().optional(),
  seed: z.preprocess(
    (value) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : undefined),
    z
      .number({ error: () => 'seed must be a whole number from 0 to 2147483647' })
      .int('seed must be a whole number from 0 to 2147483647')
      .min(0, 'seed must be a whole number from 0 to 2147483647')
      .max(2 ** 31 - 1, 'seed must be a whole number from 0 to 2147483647')
      .optional(),
  ),
  normalize: formBoolean(true),
  /** A per-request lexicon as a JSON object string, e.g. {"Qwen": "큐웬"} (form fields are strings). */
  pronunciations: z.preprocess(
    (value) => {
      if (typeof value !== 'string' || value.trim() === '') return undefined;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return value;
      }
    },
    z
      .record(z.string().min(1).max(100), z.string().max(200), {
        error: () => 'pronunciations must be a JSON object like {"Qwen": "큐웬"}',
      })
      .refine((value) => Object.keys(value).length <= 500, 'pronunciations may hold at most 500 entries')
      .optional(),
  ),
  split_sentences: z.preprocess(
    (value) => (value === undefined || value === '' || value === 'null' ? null : value),
    z.union([z.null(), formBoolean(true)], {
      error: () => 'split_sentences must be true, false or null (auto)',
    }),
  ),
});
export type VideoForm = z.infer<typeof videoFormSchema>;
