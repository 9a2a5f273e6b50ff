import {
  healthSchema,
  infoSchema,
  loadResultSchema,
  readySchema,
} from '../schemas/system-response-schemas.ts';
import { errors, json } from './responses.ts';
import type { RouteDocs } from './route-docs.ts';

const HEALTH_EXAMPLE = {
  status: 'ok',
  models_loaded: ['base_0.6b'],
  synthetic_models: [],
  engine: { name: 'qwen3-onnx', ok: true },
  queue: { active: 0, pending: 0, concurrency: 1, maxPending: 8 },
};

export const healthDocs: RouteDocs = {
  responses: {
    200: json(
      'The process serves (always 200 while it does); status says whether the engines are healthy',
      healthSchema,
      HEALTH_EXAMPLE,
    ),
  },
};

export const readyDocs: RouteDocs = {
  responses: {
    200: json('Ready: a model is loaded and the engine is healthy', readySchema, {
      ...HEALTH_EXAMPLE,
      ready: true,
    }),
    503: json('Not ready yet: no model loaded, or the engine is unhealthy (the same body)', readySchema, {
      ...HEALTH_EXAMPLE,
      models_loaded: [],
      ready: false,
    }),
  },
};

export const infoDocs: RouteDocs = {
  responses: {
    200: json('Models, languages and what the engine can do', infoSchema, {
      loaded_models: ['base_0.6b'],
      available_models: ['base_0.6b', 'base_1.7b'],
      available_speakers: [],
      supported_languages: ['Auto', 'Korean', 'English'],
      engine: 'qwen3-onnx',
      capabilities: { voiceCloning: true, streaming: true, sampleRate: 24000 },
      models: [{ key: 'base_0.6b', installed: true, loaded: true, location: 'models/base_0.6b' }],
    }),
  },
};

export const loadModelDocs: RouteDocs = {
  responses: {
    200: json('Loaded (or already loaded)', loadResultSchema, {
      success: true,
      message: 'Model base_0.6b loaded successfully',
    }),
    ...errors({
      400: {
        description: 'An unknown model type, or one this server does not serve (only the Base models clone)',
        example: {
          detail:
            'custom_voice_1.7b is not supported: this server clones voices with the Base models (base_0.6b, base_1.7b).',
          code: 'unsupported_model',
        },
      },
      503: {
        description: 'The model is not installed; the detail says how to install it',
        example: {
          detail:
            'model base_1.7b is not installed: run `npm run cli -- models pull base_1.7b` for the real model, ' +
            'or … set MODEL_1_7B_BASE to an exported model directory.',
          code: 'model_not_available',
        },
      },
    }),
  },
};

export const metricsDocs: RouteDocs = {
  responses: {
    200: {
      description: 'Prometheus metrics in the text exposition format',
      content: {
        'text/plain; version=0.0.4; charset=utf-8': {
          schema: { type: 'string' },
          example: 'tts_requests_total{model="base_0.6b",outcome="ok"} 12\n',
        },
      },
    },
  },
};

export const uiDocs: RouteDocs = {
  responses: {
    200: {
      description: 'The try-it page',
      content: { 'text/html; charset=utf-8': { schema: { type: 'string' } } },
    },
  },
};
