import path from 'node:path';
import type { Config, ConfigName } from '../config.ts';
import { InvalidInputError } from '../errors.ts';
import { QWEN3_VARIANT_DTYPES, type Qwen3VariantDtype } from './qwen3-manifest.ts';

/**
 * The models `models pull` / `models list` know of: where an export in our layout may live on the hub,
 * which official checkpoint it comes from, and which variable names its directory.
 */
export const INSTALLABLE_MODEL_KEYS = ['base_0.6b', 'base_1.7b', 'musetalk'] as const;
export type InstallableModelKey = (typeof INSTALLABLE_MODEL_KEYS)[number];

/**
 * The variants a model directory may hold: the Qwen3 manifest's list (int4 / int8 are weight-only
 * quantized Qwen3 graphs; MuseTalk has only float32).
 */
export const MODEL_VARIANTS = QWEN3_VARIANT_DTYPES;
export type ModelVariant = Qwen3VariantDtype;

export interface ModelRegistryEntry {
  key: InstallableModelKey;
  /** `format` the model's manifest.json must carry. */
  manifestFormat: string;
  /** Variable that names the hub repository of our exported layout (`owner/name[@revision]`). */
  repositoryVariable: ConfigName;
  /** Variable that names an explicit model directory (used as it is; pull never writes there). */
  directoryVariable: ConfigName;
  /** The official PyTorch checkpoint `models pull` exports when no export repository is set. */
  officialCheckpoint?: string;
  description: string;
}

export const MODEL_REGISTRY: Readonly<Record<InstallableModelKey, ModelRegistryEntry>> = {
  'base_0.6b': {
    key: 'base_0.6b',
    manifestFormat: 'qwen3-tts-onnx',
    repositoryVariable: 'MODEL_REPO_BASE_0_6B',
    directoryVariable: 'MODEL_0_6B_BASE',
    officialCheckpoint: 'Qwen/Qwen3-TTS-12Hz-0.6B-Base',
    description: 'Qwen3-TTS 12Hz 0.6B Base (voice cloning)',
  },
  'base_1.7b': {
    key: 'base_1.7b',
    manifestFormat: 'qwen3-tts-onnx',
    repositoryVariable: 'MODEL_REPO_BASE_1_7B',
    directoryVariable: 'MODEL_1_7B_BASE',
    officialCheckpoint: 'Qwen/Qwen3-TTS-12Hz-1.7B-Base',
    description: 'Qwen3-TTS 12Hz 1.7B Base (voice cloning)',
  },
  musetalk: {
    key: 'musetalk',
    manifestFormat: 'musetalk-onnx',
    repositoryVariable: 'MODEL_REPO_MUSETALK',
    directoryVariable: 'MUSETALK_MODEL_DIR',
    description: 'MuseTalk v1.5 lip sync (UNet, VAE, Whisper encoder, face parser)',
  },
};

export function isInstallableModelKey(value: string): value is InstallableModelKey {
  return (INSTALLABLE_MODEL_KEYS as readonly string[]).includes(value);
}

export function modelRegistryEntry(key: string): ModelRegistryEntry {
  if (!isInstallableModelKey(key)) {
    throw new InvalidInputError(
      `unknown model "${key}": models pull knows ${INSTALLABLE_MODEL_KEYS.join(', ')}`,
      { code: 'unknown_model' },
    );
  }
  return MODEL_REGISTRY[key];
}

export interface HubRepository {
  /** `owner/name` on the hub. */
  repository: string;
  /** Branch, tag or commit; `main` unless the variable says `owner/name@revision`. */
  revision: string;
}

/** Reads `owner/name[@revision]` from the key's repository variable; undefined when it is empty. */
export function modelRepository(config: Config, key: InstallableModelKey): HubRepository | undefined {
  const value = String(config[MODEL_REGISTRY[key].repositoryVariable]);
  if (value === '') return undefined;
  const at = value.indexOf('@');
  return {
    repository: at === -1 ? value : value.slice(0, at),
    revision: at === -1 ? 'main' : value.slice(at + 1),
  };
}

export interface ModelLocation {
  directory: string;
  /** `variable`: the directory variable names it, and nothing may write there. */
  origin: 'variable' | 'model-dir';
  variable: ConfigName;
}

/** Where a model lives: the explicit variable, else MODEL_DIR/<key> (as `modelDirectory` in config.ts). */
export function modelLocation(config: Config, key: InstallableModelKey): ModelLocation {
  const variable = MODEL_REGISTRY[key].directoryVariable;
  const explicit = String(config[variable]);
  if (explicit !== '') return { directory: path.resolve(explicit), origin: 'variable', variable };
  return { directory: path.resolve(config.MODEL_DIR, key), origin: 'model-dir', variable };
}
