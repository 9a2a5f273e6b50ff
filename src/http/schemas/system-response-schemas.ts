import { z } from 'zod';
import { LANGUAGES, MODEL_KEYS } from '../../engines/interfaces/tts-engine.ts';

/*
 * What the system routes answer, for /openapi.json and the tests that hold the routes to it. Loose
 * objects: a field added to an answer is not a broken promise.
 */

const modelKey = z.enum(MODEL_KEYS);

const queueSchema = z
  .looseObject({
    active: z.number().int().describe('Requests running'),
    pending: z.number().int().describe('Requests waiting for a slot'),
    concurrency: z.number().int().describe('QUEUE_CONCURRENCY'),
    maxPending: z.number().int().describe('QUEUE_MAX_PENDING: one more is a 503'),
  })
  .describe('The engine’s admission queue');

const engineHealth = z.looseObject({
  name: z.string(),
  ok: z.boolean(),
  message: z.string().optional().describe('What is wrong and what to do, when not ok'),
});

export const healthSchema = z.looseObject({
  status: z
    .enum(['ok', 'degraded'])
    .describe('degraded: an engine is unhealthy (still 200: the process serves)'),
  models_loaded: z.array(modelKey),
  synthetic_models: z
    .array(modelKey)
    .optional()
    .describe('Loaded models with random weights (`models synth`): they speak noise'),
  engine: engineHealth,
  queue: queueSchema,
  video: engineHealth
    .extend({ queue: queueSchema })
    .optional()
    .describe('The lip-sync engine, with ENABLE_VIDEO=true (it does not decide liveness)'),
  video_jobs: z
    .looseObject({
      backend: z.string().describe('`redis`'),
      ok: z.boolean(),
      message: z.string().optional().describe('What is wrong, when not ok'),
    })
    .optional()
    .describe('The shared job queue, with REDIS_URL (it does not decide liveness)'),
});

export const readySchema = healthSchema.extend({
  ready: z.boolean().describe('A model is loaded and the engine is healthy'),
});

export const infoSchema = z.looseObject({
  loaded_models: z.array(modelKey),
  available_models: z.array(modelKey).describe('Installed, whether loaded or not'),
  available_speakers: z
    .array(z.string())
    .describe('Always empty: preset speakers belong to CustomVoice models'),
  supported_languages: z.array(z.enum(LANGUAGES)),
  engine: z.string(),
  capabilities: z.looseObject({
    voiceCloning: z.boolean(),
    streaming: z.boolean().describe('Audio arrives while generation runs'),
    sampleRate: z.number().int(),
  }),
  synthetic_models: z.array(modelKey).optional().describe('Loaded models with random weights'),
  ffmpeg: z
    .looseObject({ source: z.string(), version: z.string().nullable() })
    .optional()
    .describe('Which ffmpeg decodes uploads and encodes audio'),
  models: z.array(
    z.looseObject({
      key: modelKey,
      installed: z.boolean(),
      loaded: z.boolean(),
      location: z.string().optional().describe('A directory, or a remote engine’s URL'),
      synthetic: z.boolean().optional(),
    }),
  ),
});

export const loadResultSchema = z.object({ success: z.literal(true), message: z.string() });
