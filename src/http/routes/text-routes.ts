import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { TextPreparer } from '../../core/speech-service.ts';
import { InvalidInputError } from '../../errors.ts';
import { normalizeBodySchema } from '../schemas/tts-schemas.ts';
import { normalizeDocs } from '../openapi/text-docs.ts';

export interface TextRoutesOptions {
  text: TextPreparer;
  maxTextLength: number;
}

/** A dry run of what will be spoken: the same normalization and splitting that synthesis uses. */
export const textRoutes: FastifyPluginAsync<TextRoutesOptions> = async (app, options) => {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/text/normalize',
    {
      schema: {
        summary: 'Show the text as it will be spoken, and its sentences',
        description: 'Numbers, dates, times, money, units and acronyms read as words (Korean and English).',
        tags: ['text'],
        body: normalizeBodySchema,
        docs: normalizeDocs,
      },
    },
    async (request) => {
      const { text, language, pronunciations, split_sentences: split } = request.body;
      if (text.length > options.maxTextLength) {
        throw new InvalidInputError(
          `text is ${text.length} characters long; the limit is ${options.maxTextLength} (MAX_TEXT_LENGTH).`,
          { code: 'text_too_long', statusCode: 413 },
        );
      }
      const prepared = options.text.prepare(text, { language, split, normalize: true, pronunciations });
      return { normalized: prepared.normalized, sentences: prepared.sentences };
    },
  );
};
