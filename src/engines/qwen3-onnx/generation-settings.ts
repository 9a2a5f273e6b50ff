import type { Qwen3Manifest } from '../../models/qwen3-manifest.ts';
import type { SamplingOptions } from '../interfaces/tts-engine.ts';

/** How the talker chooses each frame's first code (Hugging Face's processor order, see sampler.ts). */
export interface TalkerSampling {
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
}

/** How the code predictor chooses the 15 residual codes of a frame (no penalty, no suppression). */
export interface SubtalkerSampling {
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
}

export interface GenerationSettings {
  seed: number;
  talker: TalkerSampling;
  subtalker: SubtalkerSampling;
  /** Codec tokens the talker may choose; the last one chosen never becomes a frame (official semantics). */
  maxNewTokens: number;
}

/**
 * A request's settings with every unset field taken from the model's generation_config (the manifest),
 * as the official `generate_voice_clone` merges them; max_new_tokens is also capped by the server.
 * A temperature of 0 means "no randomness": greedy, instead of a division by zero.
 */
export function resolveGenerationSettings(
  manifest: Qwen3Manifest,
  sampling: SamplingOptions,
  maxNewTokensCap: number,
): GenerationSettings {
  const defaults = manifest.generation;
  const temperature = sampling.temperature ?? defaults.temperature;
  const subtalker = sampling.subtalker ?? {};
  const subtalkerTemperature = subtalker.temperature ?? defaults.subtalker.temperature;
  return {
    seed: sampling.seed,
    talker: {
      doSample: (sampling.doSample ?? defaults.doSample) && temperature > 0,
      temperature,
      topK: sampling.topK ?? defaults.topK,
      topP: sampling.topP ?? defaults.topP,
      repetitionPenalty: sampling.repetitionPenalty ?? defaults.repetitionPenalty,
    },
    subtalker: {
      doSample: (subtalker.doSample ?? defaults.subtalker.doSample) && subtalkerTemperature > 0,
      temperature: subtalkerTemperature,
      topK: subtalker.topK ?? defaults.subtalker.topK,
      topP: subtalker.topP ?? defaults.subtalker.topP,
    },
    maxNewTokens: Math.min(sampling.maxNewTokens ?? defaults.maxNewTokens, maxNewTokensCap),
  };
}
