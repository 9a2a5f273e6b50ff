import type { DocExample, DocHeader, DocMedia, DocResponse, DocSchema } from './route-docs.ts';
import { withOpenAiError, type ErrorBody as ErrorBodyExample } from '../errors/openai-error.ts';

/** The error bodies, as components of the document (document.ts builds them from error-schemas.ts). */
export const ERROR_COMPONENTS = {
  detail: 'ErrorDetail',
  validation: 'ValidationError',
  openAiDetail: 'OpenAiErrorDetail',
  openAiValidation: 'OpenAiValidationError',
} as const;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const RETRY_AFTER: DocHeader = {
  description:
    'Seconds to wait before trying again (sent when the server is busy, not when a model is missing)',
  schema: { type: 'integer', minimum: 1 },
};

/** Which body an error status has: FastAPI's list, the plain detail, or either (a 422 may be both). */
type ErrorBody = 'detail' | 'validation' | 'either';

export type ErrorSpec = string | { description: string; body?: ErrorBody; example?: unknown };

/** A request stopped at REQUEST_TIMEOUT_MS (speech and video alike). */
export const TIMED_OUT: ErrorSpec = {
  description: 'The request ran past REQUEST_TIMEOUT_MS and was stopped',
  example: { detail: 'the request was cancelled', code: 'cancelled' },
};

const FALLBACK_EXAMPLES: Record<number, unknown> = {
  400: {
    detail:
      'ref_audio path "../secret.wav" is outside REF_AUDIO_DIR: name a file inside that folder, or send a URL or base64 audio',
    code: 'ref_audio_outside_directory',
  },
  401: {
    detail: 'this server needs an API key: send Authorization: Bearer <key> or X-API-Key: <key>',
    code: 'unauthorized',
  },
  404: {
    detail: 'ref_audio file "sample(2).mp3" was not found in REF_AUDIO_DIR',
    code: 'ref_audio_not_found',
  },
  413: {
    detail:
      'text is 6000 characters long; the limit is 5000 (MAX_TEXT_LENGTH). Split it into several requests.',
    code: 'text_too_long',
  },
  415: {
    detail:
      'Content-Type text/plain is not accepted: send a JSON body with Content-Type: application/json ' +
      '(the /video routes take multipart/form-data)',
    code: 'unsupported_media_type',
  },
  422: { detail: [{ type: 'missing', loc: ['body', 'ref_audio'], msg: 'Field required' }] },
  500: { detail: 'internal error (request req-1f); the server log has details' },
  502: { detail: 'vllm-omni failed (HTTP 500: out of memory)', code: 'engine_failed' },
  503: {
    detail:
      'speech engine qwen3-onnx is busy: 1 request(s) running and 8 waiting (QUEUE_MAX_PENDING=8). Retry after the suggested delay.',
    code: 'engine_overloaded',
  },
};

/** OpenAI's error object beside the example's own fields, as the /v1 routes' onSend hook adds it. */
function errorSchema(body: ErrorBody, openAi: boolean): DocSchema {
  const detail = ref(openAi ? ERROR_COMPONENTS.openAiDetail : ERROR_COMPONENTS.detail);
  const validation = ref(openAi ? ERROR_COMPONENTS.openAiValidation : ERROR_COMPONENTS.validation);
  if (body === 'detail') return detail;
  if (body === 'validation') return validation;
  return { oneOf: [validation, detail] };
}

/** One error answer: its description, its JSON body and an example. */
export function errorResponse(status: number, spec: ErrorSpec, openAi = false): DocResponse {
  const { description, body, example } = typeof spec === 'string' ? { description: spec } : spec;
  const chosen = body ?? (status === 422 ? 'validation' : 'detail');
  const shown = example ?? FALLBACK_EXAMPLES[status];
  const media: DocMedia = { schema: errorSchema(chosen, openAi) };
  if (shown !== undefined)
    media.example = openAi ? withOpenAiError(shown as ErrorBodyExample, status) : shown;
  return {
    description,
    content: { 'application/json': media },
    ...(status === 503 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
  };
}

/** The error answers of a route, by status. */
export function errors(specs: Record<number, ErrorSpec>, openAi = false): Record<number, DocResponse> {
  return Object.fromEntries(
    Object.entries(specs).map(([status, spec]) => [status, errorResponse(Number(status), spec, openAi)]),
  );
}

/** A JSON answer. */
export function json(description: string, schema: DocSchema, example?: unknown): DocResponse {
  return {
    description,
    content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } },
  };
}

export const BINARY: DocSchema = { type: 'string', format: 'binary' };

/** A Server-Sent Events stream: each event's name and data, and an example of the stream. */
export function eventStream(
  description: string,
  events: Record<string, { description: string; data: DocSchema }>,
  example: string,
): DocMedia {
  const names = Object.entries(events)
    .map(([name, event]) => `\`${name}\`: ${event.description}`)
    .join('; ');
  return {
    schema: { type: 'string', description: `${description} Events: ${names}.` },
    example,
    events,
  };
}

export const example = (value: unknown, summary?: string): DocExample => ({
  ...(summary ? { summary } : {}),
  value,
});
