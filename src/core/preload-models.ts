import type { Logger } from 'pino';
import { modelDirectory, type Config } from '../config.ts';
import { installHint } from '../models/install-hint.ts';
import type { TtsEngine } from '../engines/interfaces/tts-engine.ts';

/**
 * Loads TTS_DEFAULT_MODEL (or every installed model for `all`) at startup. A missing model is not
 * fatal: the server starts, says how to install one, and the TTS endpoints answer 503 until then.
 */
export async function preloadModels(engine: TtsEngine, config: Config, logger: Logger): Promise<void> {
  if (config.TTS_DEFAULT_MODEL === 'none') return;
  const models = await engine.models();
  const wanted =
    config.TTS_DEFAULT_MODEL === 'all'
      ? models.filter((model) => model.installed)
      : models.filter((model) => model.key === config.TTS_DEFAULT_MODEL);
  if (wanted.length === 0 || wanted.every((model) => !model.installed)) {
    const key = config.TTS_DEFAULT_MODEL === 'base_1.7b' ? 'base_1.7b' : 'base_0.6b';
    logger.warn(
      `no speech model is installed (TTS_DEFAULT_MODEL=${config.TTS_DEFAULT_MODEL}): the TTS endpoints answer 503 ` +
        `until one is. To install one, ${installHint(key, modelDirectory(config, key))}.`,
    );
    return;
  }
  for (const model of wanted) {
    if (!model.installed) continue;
    const startedAt = performance.now();
    await engine.loadModel(model.key);
    logger.info(
      `loaded ${model.key} from ${model.location ?? 'the engine'} in ${Math.round(performance.now() - startedAt)} ms`,
    );
    if (config.TTS_WARMUP && engine.warmUp) {
      try {
        logger.info(`warmed up ${model.key} in ${Math.round(await engine.warmUp(model.key))} ms`);
      } catch (error) {
        // A failed warm-up costs only the first request's speed; the request itself will say what is wrong.
        logger.warn({ err: error }, `could not warm up ${model.key}`);
      }
    }
  }
}
