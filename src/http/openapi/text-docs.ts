import { normalizeResultSchema } from '../schemas/speech-response-schemas.ts';
import { errors, example, json } from './responses.ts';
import type { RouteDocs } from './route-docs.ts';

export const normalizeDocs: RouteDocs = {
  bodyExamples: {
    korean: example(
      { text: '면접은 2025년 3월 1일 오후 3시 30분, 3층 302호입니다.', language: 'Korean' },
      'Dates, times and counters read as a Korean speaker says them',
    ),
    lexicon: example(
      { text: 'Qwen3-TTS로 AI 면접을 봅니다.', language: 'Korean', pronunciations: { Qwen3: '큐웬 쓰리' } },
      'A per-request lexicon',
    ),
  },
  responses: {
    200: json('The text as it will be spoken, and its sentences', normalizeResultSchema, {
      normalized: '면접은 이천이십오 년 삼 월 일 일 오후 세 시 삼십 분, 삼 층 삼백이 호입니다.',
      sentences: ['면접은 이천이십오 년 삼 월 일 일 오후 세 시 삼십 분, 삼 층 삼백이 호입니다.'],
    }),
    ...errors({
      400: 'An empty body',
      413: 'text is longer than MAX_TEXT_LENGTH, or the body is too large',
      415: 'The body is not JSON (Content-Type must be application/json)',
      422: 'A field failed validation',
    }),
  },
};
