import path from 'node:path';
import { MODEL_REGISTRY, type InstallableModelKey } from './model-registry.ts';

/**
 * How to install a model, for the messages of a missing one: the real model (`models pull`), a
 * synthetic one to try the server without weights (`models synth`, which speaks noise), or a variable.
 */
export function installHint(key: InstallableModelKey, directory: string): string {
  const relative = path.relative(process.cwd(), directory);
  const where = relative && !relative.startsWith('..') ? relative : directory;
  const out = /\s/.test(where) ? JSON.stringify(where) : where;
  return (
    `run \`npm run cli -- models pull ${key}\` for the real model, or ` +
    `\`npm run cli -- models synth ${key} --out ${out}\` for a synthetic one to try the server ` +
    `(random weights: it speaks noise), or set ${MODEL_REGISTRY[key].directoryVariable} to an exported model directory`
  );
}

/** Whether a model directory's manifest says it is synthetic (random weights from `models synth`). */
export function isSyntheticManifest(manifest: unknown): boolean {
  const source = (manifest as { source?: { synthetic?: unknown } } | undefined)?.source;
  return source?.synthetic === true;
}

/** The start log's warning for a loaded synthetic model. */
export function syntheticModelWarning(key: string): string {
  return (
    `${key} is a synthetic model (random weights from \`models synth\`): it speaks noise, not speech. ` +
    `Install the real one with \`npm run cli -- models pull ${key}\``
  );
}
