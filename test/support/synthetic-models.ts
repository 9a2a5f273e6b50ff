import { writeSyntheticQwen3Model, type SyntheticQwen3Options } from '../../src/models/synth-qwen3.ts';
import { temporaryDirectory } from './temporary-directory.ts';

/** Writes a tiny synthetic Qwen3 model into a fresh temporary directory (removed at exit). */
export async function syntheticQwen3(options: Partial<SyntheticQwen3Options> = {}): Promise<string> {
  const directory = temporaryDirectory('synthetic-qwen3-');
  await writeSyntheticQwen3Model(directory, { key: 'base_0.6b', dtype: 'float32', size: 'tiny', ...options });
  return directory;
}
