import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * The worker module `name` (no extension) beside the module at `base` (its import.meta.url), with that
 * module's own extension: `.ts` when run from src/ through tsx, `.js` when run from the build in dist/.
 */
export function workerScript(name: string, base: string): URL {
  return new URL(`${name}${path.extname(new URL(base).pathname)}`, base);
}

/**
 * Starts the worker module `script` with `workerData`. The build (dist/, plain node) starts its
 * JavaScript worker as it is; in development the TypeScript worker starts through worker-entry.mjs,
 * which registers tsx in the worker first.
 */
export function startWorker(script: URL, workerData: unknown): Worker {
  return script.pathname.endsWith('.ts')
    ? new Worker(new URL('./worker-entry.mjs', import.meta.url), {
        workerData: { ...(workerData as object), script: script.href },
      })
    : new Worker(script, { workerData });
}
