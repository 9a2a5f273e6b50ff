import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { AdmissionQueue } from './core/admission.ts';
import { ReferenceAudioResolver, referenceAudioOptionsFromConfig } from './core/reference-audio.ts';
import { SpeechService, type TextPreparer } from './core/speech-service.ts';
import { VideoService } from './core/video-service.ts';
import { VideoStore } from './core/video-store.ts';
import { VideoStreams } from './core/video-streams.ts';
import { VideoJobs, type VideoJobState } from './core/video-jobs.ts';
import type { VideoJobQueue } from './core/video-job-queue.ts';
import { postWebhook } from './core/webhook.ts';
import { preloadModels } from './core/preload-models.ts';
import type { LipsyncEngine } from './engines/interfaces/lipsync-engine.ts';
import type { TtsEngine } from './engines/interfaces/tts-engine.ts';
import type { AppServices } from './http/app.ts';
import { createTextPreparer } from './core/text-preparer.ts';
import { Metrics } from './observability/metrics.ts';
import { VoiceLibrary } from './core/voice-library.ts';
import { SpeechResultCache } from './core/speech-result-cache.ts';
import { VoiceCallbackLedger } from './core/voice-callbacks.ts';
import { setUpFfmpeg } from './media/ffmpeg-choice.ts';
import { RenderCache } from './storage/render-cache.ts';
import { FileJobStore } from './storage/job-store.ts';

/** Chooses and starts the configured engines; the only place that knows concrete engine classes. */
async function createTtsEngine(config: Config, logger: Logger): Promise<TtsEngine> {
  if (config.TTS_ENGINE === 'vllm-omni') {
    const { VllmOmniEngine } = await import('./engines/vllm-omni/engine.ts');
    return VllmOmniEngine.connect(config, { logger });
  }
  const { createQwen3OnnxEngine } = await import('./engines/qwen3-onnx/engine.ts');
  return createQwen3OnnxEngine(config, logger);
}

async function createLipsyncEngine(config: Config, logger: Logger): Promise<LipsyncEngine> {
  if (config.USE_NEWAVATA_API) {
    const { NewAvataEngine } = await import('./engines/newavata/engine.ts');
    return NewAvataEngine.connect(config, { logger });
  }
  const { createMuseTalkEngine } = await import('./engines/musetalk-onnx/engine.ts');
  return createMuseTalkEngine(config, logger);
}

export interface ComposedServices extends AppServices {
  close(): Promise<void>;
}

/** Wires engines, queues and use cases for `buildApp`. Tests build AppServices themselves. */
export async function createServices(
  config: Config,
  logger: Logger,
  overrides: { engine?: TtsEngine; lipsync?: LipsyncEngine; text?: TextPreparer } = {},
): Promise<ComposedServices> {
  // First, so that an FFMPEG_PATH that does not run stops startup before models load.
  await setUpFfmpeg(config, {
    info: (message) => logger.info(message),
    warn: (message) => logger.warn(message),
  });
  // Before the models load, so that an unreachable REDIS_URL stops startup at once, saying so.
  const redis =
    config.ENABLE_VIDEO && config.REDIS_URL
      ? await (await import('./storage/redis-connection.ts')).connectRedis(config.REDIS_URL, { logger })
      : undefined;
  const engine = overrides.engine ?? (await createTtsEngine(config, logger));
  // Remote engines load their own model; only the embedded engine is preloaded here.
  if (!overrides.engine && config.TTS_ENGINE === 'embedded') await preloadModels(engine, config, logger);
  const text = overrides.text ?? (await createTextPreparer(config));
  const metrics = config.METRICS_ENABLED ? new Metrics() : undefined;
  const admission = new AdmissionQueue({
    name: `speech engine ${engine.name}`,
    concurrency: config.QUEUE_CONCURRENCY,
    maxPending: config.QUEUE_MAX_PENDING,
    onOutcome: (outcome) => metrics?.admission('speech', outcome),
  });
  metrics?.watchQueue('speech', admission);
  const references = new ReferenceAudioResolver(referenceAudioOptionsFromConfig(config));
  const speech = new SpeechService({
    engine,
    admission,
    references,
    text,
    pauseMs: config.SENTENCE_PAUSE_MS,
    maxTextLength: config.MAX_TEXT_LENGTH,
    maxReferenceTextLength: config.MAX_REF_TEXT_LENGTH,
    maxNewTokens: config.TTS_MAX_NEW_TOKENS,
    logger,
    observer: metrics,
    results:
      config.SPEECH_CACHE_MB > 0 ? new SpeechResultCache(config.SPEECH_CACHE_MB * 1024 * 1024) : undefined,
  });
  let video: VideoService | undefined;
  let videoFiles: VideoStore | undefined;
  let videoJobs: VideoJobQueue | undefined;
  let closeJobs: () => void | Promise<void> = () => {};
  let videoStreams: VideoStreams | undefined;
  let lipsync: LipsyncEngine | undefined;
  const callbacks = new VoiceCallbackLedger();
  if (config.ENABLE_VIDEO) {
    lipsync = overrides.lipsync ?? (await createLipsyncEngine(config, logger));
    const videoAdmission = new AdmissionQueue({
      name: `lip-sync engine ${lipsync.name}`,
      concurrency: 1,
      maxPending: config.QUEUE_MAX_PENDING,
      onOutcome: (outcome) => metrics?.admission('video', outcome),
    });
    metrics?.watchQueue('video', videoAdmission);
    // Live streams of videos while they render, kept as long as the finished MP4s.
    videoStreams = new VideoStreams({
      directory: path.resolve(config.VIDEO_OUTPUT_DIR, 'streams'),
      keepSeconds: config.VIDEO_OUTPUT_KEEP_S,
    });
    videoStreams.startSweeping();
    video = new VideoService({
      streams: videoStreams,
      lipsync,
      speech,
      admission: videoAdmission,
      observer: metrics,
      callbacks,
      allowFallbackVoice: config.NEWAVATA_ALLOW_FALLBACK_VOICE,
      renders:
        config.VIDEO_CACHE_MB > 0
          ? new RenderCache({
              directory: path.resolve(config.CACHE_DIR, 'renders'),
              maxBytes: config.VIDEO_CACHE_MB * 1024 * 1024,
              logger,
            })
          : undefined,
    });
    const sharedFiles = redis
      ? new (await import('./storage/redis-video-files.ts')).RedisVideoFiles(redis, config.REDIS_QUEUE)
      : undefined;
    videoFiles = new VideoStore({
      directory: config.VIDEO_OUTPUT_DIR,
      keepSeconds: config.VIDEO_OUTPUT_KEEP_S,
      shared: sharedFiles,
    });
    videoFiles.startSweeping();
    const notify = async (url: URL, state: VideoJobState) => {
      const result = await postWebhook(url, state, {
        secret: config.WEBHOOK_SECRET,
        allowPrivateAddresses: config.WEBHOOK_ALLOW_PRIVATE_URLS,
      });
      if (!result.delivered)
        logger.warn({ job: state.job_id, ...result }, `could not deliver the callback to ${url.origin}`);
    };
    if (redis) {
      // Several servers share the jobs and their videos through Redis (README: "Several servers").
      const { RedisVideoJobs } = await import('./storage/redis-video-jobs.ts');
      const shared = await RedisVideoJobs.start({
        redis,
        queueName: config.REDIS_QUEUE,
        video,
        files: videoFiles,
        maxUnfinished: config.QUEUE_MAX_PENDING + 1,
        lockMs: config.VIDEO_JOB_LOCK_S * 1000,
        notify,
        logger,
      });
      videoJobs = shared;
      closeJobs = () => shared.close();
    } else {
      const local = new VideoJobs({
        video,
        files: videoFiles,
        store: new FileJobStore({ directory: path.resolve(config.VIDEO_OUTPUT_DIR, 'jobs'), logger }),
        maxUnfinished: config.QUEUE_MAX_PENDING + 1,
        logger,
        notify,
      });
      // Jobs of the previous run: finished ones answer again, interrupted ones start again.
      await local.restore();
      videoJobs = local;
      closeJobs = () => local.close();
    }
  }
  return {
    config,
    engine,
    admission,
    speech,
    text,
    video,
    videoFiles,
    videoJobs,
    metrics,
    voices: new VoiceLibrary(config.REF_AUDIO_DIR, {
      // A saved voice is checked as a reference sent with a request is (content, size, duration).
      decode: (bytes, signal) => references.decodeBytes(bytes, signal, 'audio_sample'),
      maxBytes: config.REF_AUDIO_MAX_BYTES,
      maxTranscriptLength: config.MAX_REF_TEXT_LENGTH,
    }),
    callbacks,
    async close() {
      // With Redis, the job this server renders goes back to the queue for another server.
      await closeJobs();
      videoFiles?.close();
      videoStreams?.close();
      await Promise.allSettled([engine.close(), lipsync?.close()]);
    },
  };
}
