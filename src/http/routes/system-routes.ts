import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AdmissionQueue } from '../../core/admission.ts';
import type { VideoService } from '../../core/video-service.ts';
import type { VideoJobQueue } from '../../core/video-job-queue.ts';
import { MODEL_KEYS, type TtsEngine } from '../../engines/interfaces/tts-engine.ts';
import { InvalidInputError } from '../../errors.ts';
import { currentFfmpeg } from '../../media/ffmpeg.ts';
import { healthDocs, infoDocs, loadModelDocs, readyDocs } from '../openapi/system-docs.ts';

export interface SystemRoutesOptions {
  engine: TtsEngine;
  admission: AdmissionQueue;
  /** With ENABLE_VIDEO=true: the lip-sync engine's health joins /health (it does not decide liveness). */
  video?: VideoService;
  /** With REDIS_URL: whether the shared job queue can be reached joins /health (not liveness). */
  jobs?: VideoJobQueue;
}

/** The seed's aliases: `base`, `custom_voice` and `voice_design` name the 1.7B models. */
const MODEL_ALIASES: Record<string, string> = {
  base: 'base_1.7b',
  custom_voice: 'custom_voice_1.7b',
  voice_design: 'voice_design_1.7b',
};

/**
 * The seed's other models: preset speakers and designed voices need features this server does not
 * offer, so /load answers that they are not supported rather than that they are unknown.
 */
const SEED_MODELS_NOT_SERVED = ['custom_voice_0.6b', 'custom_voice_1.7b', 'voice_design_1.7b'];

export const systemRoutes: FastifyPluginAsync<SystemRoutesOptions> = async (app, options) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { engine, admission, video, jobs } = options;

  const healthBody = async () => {
    const [health, videoStatus] = await Promise.all([engine.health(), video?.status()]);
    const jobsStatus = jobs?.health?.();
    return {
      status: health.ok && (videoStatus?.ok ?? true) && (jobsStatus?.ok ?? true) ? 'ok' : 'degraded',
      models_loaded: engine.loadedModels(),
      // Loaded models with random weights (`models synth`): they speak noise, and the page says so.
      synthetic_models: engine.syntheticModels?.() ?? [],
      engine: { name: engine.name, ok: health.ok, ...(health.message ? { message: health.message } : {}) },
      queue: admission.snapshot(),
      ...(videoStatus ? { video: videoStatus } : {}),
      ...(jobsStatus ? { video_jobs: jobsStatus } : {}),
    };
  };

  // Liveness: 200 whenever the process serves HTTP (NewAvata checks for exactly that).
  routes.get(
    '/',
    { schema: { summary: 'Liveness and loaded models', tags: ['system'], docs: healthDocs } },
    healthBody,
  );
  routes.get(
    '/health',
    { schema: { summary: 'Liveness and loaded models', tags: ['system'], docs: healthDocs } },
    healthBody,
  );

  // Readiness: 503 until a model is loaded and the engine is healthy (for load balancers).
  routes.get(
    '/ready',
    { schema: { summary: 'Readiness: can the server synthesize now?', tags: ['system'], docs: readyDocs } },
    async (_request, reply) => {
      const body = await healthBody();
      const ready = body.engine.ok && body.models_loaded.length > 0;
      return reply.status(ready ? 200 : 503).send({ ...body, ready });
    },
  );

  routes.get(
    '/info',
    { schema: { summary: 'Models, speakers and languages', tags: ['system'], docs: infoDocs } },
    async () => {
      const models = await engine.models();
      return {
        loaded_models: engine.loadedModels(),
        // Loaded models with random weights (`models synth`): they speak noise. `models` flags each.
        synthetic_models: engine.syntheticModels?.() ?? [],
        available_models: models.filter((model) => model.installed).map((model) => model.key),
        // Preset speakers belong to CustomVoice models, which this server does not serve.
        available_speakers: [] as string[],
        supported_languages: [...engine.languages],
        engine: engine.name,
        capabilities: engine.capabilities,
        models,
        // Which ffmpeg decodes uploads and encodes audio: source and version, never its path.
        ffmpeg: currentFfmpeg(),
      };
    },
  );

  routes.post(
    '/load/:model_type',
    {
      schema: {
        summary: 'Load a model (base_0.6b, base_1.7b, or the alias base)',
        tags: ['system'],
        params: z.object({ model_type: z.string() }),
        docs: loadModelDocs,
      },
    },
    async (request) => {
      const requested = request.params.model_type.trim().toLowerCase();
      const name = MODEL_ALIASES[requested] ?? requested;
      if (SEED_MODELS_NOT_SERVED.includes(name)) {
        throw new InvalidInputError(
          `${name} is not supported: this server clones voices with the Base models (${MODEL_KEYS.join(', ')}).`,
          { code: 'unsupported_model' },
        );
      }
      const key = MODEL_KEYS.find((served) => served === name);
      if (!key) {
        throw new InvalidInputError(
          `Unknown model type: ${request.params.model_type}. Available: ${[...MODEL_KEYS, 'base'].join(', ')}`,
          { code: 'unknown_model' },
        );
      }
      // The engine says what is missing and how to get it (a local install, or the remote engine's model).
      await engine.loadModel(key);
      return { success: true, message: `Model ${key} loaded successfully` };
    },
  );
};
