import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from '../config.ts';
import type { AdmissionQueue } from '../core/admission.ts';
import type { SpeechService, TextPreparer } from '../core/speech-service.ts';
import type { VideoService } from '../core/video-service.ts';
import type { VideoStore } from '../core/video-store.ts';
import type { VideoJobQueue } from '../core/video-job-queue.ts';
import { videoJobRoutes } from './routes/video-job-routes.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { VoiceLibrary } from '../core/voice-library.ts';
import { openAiRoutes } from './routes/openai-routes.ts';
import { MAX_STREAM_MESSAGE_BYTES, speechStreamRoutes } from './routes/speech-stream-routes.ts';
import websocket from '@fastify/websocket';
import { metricsRoutes, recordRequestMetrics } from './routes/metrics-routes.ts';
import { requireApiKey } from './api-key.ts';
import type { TtsEngine } from '../engines/interfaces/tts-engine.ts';
import { registerErrorHandler } from './errors/error-handler.ts';
import { openApiOptions } from './openapi/document.ts';
import { requestForLog } from '../observability/log-redaction.ts';
import { systemRoutes } from './routes/system-routes.ts';
import { textRoutes } from './routes/text-routes.ts';
import { ttsRoutes } from './routes/tts-routes.ts';
import type { VoiceCallbackLedger } from '../core/voice-callbacks.ts';
import { uiRoutes } from './routes/ui-routes.ts';
import { videoRoutes } from './routes/video-routes.ts';
import { registerJsonBodyParser } from './requests/json-body-parser.ts';

/** Everything the routes use, built once by the composition root (or by a test with fakes). */
export interface AppServices {
  config: Config;
  engine: TtsEngine;
  admission: AdmissionQueue;
  speech: SpeechService;
  text: TextPreparer;
  /** Present when ENABLE_VIDEO=true. */
  video?: VideoService;
  /** Where /video/generate/sse keeps finished videos; present when ENABLE_VIDEO=true. */
  videoFiles?: VideoStore;
  /** Background video jobs (this process's, or shared through Redis); present when ENABLE_VIDEO=true. */
  videoJobs?: VideoJobQueue;
  /** Present when METRICS_ENABLED=true: served at /metrics. */
  metrics?: Metrics;
  /** Named voices for the OpenAI-compatible API. */
  voices: VoiceLibrary;
  /** Renders of a lip-sync engine that calls /tts/voice_clone back, waiting for those callbacks. */
  callbacks?: VoiceCallbackLedger;
}

export interface BuildAppOptions {
  logger?: FastifyServerOptions['logger'];
}

/** A JSON body limit that fits base64 reference audio of REF_AUDIO_MAX_BYTES plus the text. */
function bodyLimit(config: Config): number {
  return Math.ceil(config.REF_AUDIO_MAX_BYTES * 1.4) + config.MAX_TEXT_LENGTH * 8 + 64 * 1024;
}

/** Builds the HTTP app without listening, so tests can `inject` into it. */
export async function buildApp(
  services: AppServices,
  options: BuildAppOptions = {},
): Promise<FastifyInstance> {
  const { config } = services;
  const logger = options.logger ?? { level: config.LOG_LEVEL };
  const app = Fastify({
    // Requests are logged with secrets in their query (the WebSocket's ?api_key=) masked.
    logger:
      typeof logger === 'object'
        ? { ...logger, serializers: { req: requestForLog, ...logger.serializers } }
        : logger,
    bodyLimit: bodyLimit(config),
    requestIdHeader: 'x-request-id',
    // The client's address (request.ip) shares the engine queue fairly; behind a proxy, from X-Forwarded-For.
    trustProxy: config.TRUST_PROXY,
  });
  // No route reads plain text: JSON sent as text/plain is a 415 that says so, not a puzzling 422.
  app.removeContentTypeParser('text/plain');
  registerJsonBodyParser(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });

  // Any origin (*) is answered without credentials; credentials only go to origins listed by name.
  const origins = config.CORS_ORIGINS.split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  const anyOrigin = origins.includes('*');
  await app.register(cors, {
    origin: anyOrigin ? '*' : origins,
    credentials: !anyOrigin,
    exposedHeaders: [
      'X-Generation-Time',
      'X-TTS-Time',
      'X-Seed',
      'X-Request-Id',
      'X-Avatar-Used',
      'X-Avatar-Notice',
      'X-Reference-Warnings',
      'X-Voice',
      'X-Sample-Rate',
      'X-Ignored',
      'X-Voice-Fallback',
      'X-Cache',
      'X-Queue-Position',
      'X-Queue-Wait',
      'X-Queue-Turns',
      'Retry-After',
    ],
  });
  // After CORS, so that a refusal still carries the CORS headers a browser needs to read it.
  if (config.API_KEY) requireApiKey(app, config.API_KEY);
  await app.register(multipart, {
    // The larger of the photo and video limits: video-form.ts holds each field to its own.
    limits: {
      fileSize: Math.max(config.VIDEO_MAX_UPLOAD_BYTES, config.VIDEO_AVATAR_MAX_BYTES),
      files: 2,
      fields: 32,
      fieldSize: bodyLimit(config),
    },
  });
  await app.register(swagger, openApiOptions({ apiKeyRequired: Boolean(config.API_KEY) }));
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // Where FastAPI (the seed's framework) serves the document, so its clients and tools find it.
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerErrorHandler(app);
  if (services.metrics) recordRequestMetrics(app, services.metrics);
  await app.register(systemRoutes, {
    engine: services.engine,
    admission: services.admission,
    video: config.ENABLE_VIDEO ? services.video : undefined,
    jobs: config.ENABLE_VIDEO ? services.videoJobs : undefined,
  });
  await app.register(ttsRoutes, {
    speech: services.speech,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    stallTimeoutMs: config.STREAM_STALL_TIMEOUT_S * 1000,
    callbacks: services.callbacks,
  });
  await app.register(openAiRoutes, {
    speech: services.speech,
    voices: services.voices,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    stallTimeoutMs: config.STREAM_STALL_TIMEOUT_S * 1000,
  });
  // The protocol layer cuts frames far over the limit; the route refuses the rest with a message.
  await app.register(websocket, { options: { maxPayload: 4 * MAX_STREAM_MESSAGE_BYTES } });
  await app.register(speechStreamRoutes, {
    speech: services.speech,
    voices: services.voices,
    maxTextLength: config.MAX_TEXT_LENGTH,
    idleTimeoutMs: config.STREAM_IDLE_TIMEOUT_S * 1000,
    maxSessionText: config.STREAM_SESSION_MAX_TEXT,
    maxSessions: config.STREAM_MAX_SESSIONS,
    stallTimeoutMs: config.STREAM_STALL_TIMEOUT_S * 1000,
  });
  await app.register(textRoutes, { text: services.text, maxTextLength: config.MAX_TEXT_LENGTH });
  await app.register(uiRoutes);
  if (services.metrics) await app.register(metricsRoutes, { metrics: services.metrics });
  if (config.ENABLE_VIDEO && services.video && services.videoFiles) {
    await app.register(videoRoutes, { video: services.video, files: services.videoFiles, config });
    if (services.videoJobs)
      await app.register(videoJobRoutes, { jobs: services.videoJobs, video: services.video, config });
  }
  return app;
}
