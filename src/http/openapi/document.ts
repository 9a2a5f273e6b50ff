import type { SwaggerOptions } from '@fastify/swagger';
import {
  errorDetailSchema,
  openAiErrorDetailSchema,
  openAiValidationErrorSchema,
  validationErrorSchema,
} from '../schemas/error-schemas.ts';
import { ERROR_COMPONENTS } from './responses.ts';
import { openApiTransform } from './transform.ts';
import { toOpenApiSchema } from './zod-to-openapi.ts';

const DESCRIPTION = [
  'Qwen3-TTS voice cloning with optional lip-synced MP4 video; compatible with the seed API.',
  '',
  'Errors: a request that fails validation is a **422** in FastAPI’s shape, ' +
    '`{"detail": [{"type", "loc", "msg", "input"}]}`; every other error is `{"detail": "…", "code": "…"}` ' +
    '(the /v1 routes add OpenAI’s `{"error": {…}}` beside it). A **503** from a busy server carries ' +
    '`Retry-After`. With `API_KEY` set, every route but the probes, /metrics, the docs, the try-it page ' +
    'and rendered videos needs `Authorization: Bearer <key>` or `X-API-Key: <key>` (401 otherwise).',
  '',
  'The WebSocket `/v1/audio/speech/stream` is described under its GET operation and in its ' +
    '`x-websocket` extension (messages, close codes).',
].join('\n');

const TAGS = [
  { name: 'tts', description: 'The seed’s voice-clone API: WAV, JSON or Server-Sent Events' },
  { name: 'openai', description: 'OpenAI’s speech API, the named voices, and the streaming WebSocket' },
  { name: 'text', description: 'Text normalization: what will be spoken' },
  { name: 'video', description: 'Lip-synced MP4 video (ENABLE_VIDEO=true): at once, streamed, or as jobs' },
  { name: 'system', description: 'Probes, model loading, metrics and the try-it page' },
];

/** @fastify/swagger's options: the document's frame, shared schemas and the route transform. */
export function openApiOptions(options: { apiKeyRequired: boolean }): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Voice clone and talking-head server', description: DESCRIPTION, version: '0.1.0' },
      tags: TAGS,
      components: {
        schemas: {
          [ERROR_COMPONENTS.detail]: toOpenApiSchema(errorDetailSchema, 'output'),
          [ERROR_COMPONENTS.validation]: toOpenApiSchema(validationErrorSchema, 'output'),
          [ERROR_COMPONENTS.openAiDetail]: toOpenApiSchema(openAiErrorDetailSchema, 'output'),
          [ERROR_COMPONENTS.openAiValidation]: toOpenApiSchema(openAiValidationErrorSchema, 'output'),
        },
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'The API_KEY, as OpenAI’s SDKs send it',
          },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          apiKeyQuery: {
            type: 'apiKey',
            in: 'query',
            name: 'api_key',
            description: 'The WebSocket only: browsers cannot set its headers',
          },
        },
      },
    },
    transform: openApiTransform({ apiKeyRequired: options.apiKeyRequired }),
  };
}
