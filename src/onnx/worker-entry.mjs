// Entry point of every model worker run from the sources (development, tests: the build in dist/
// starts its JavaScript workers directly). Node 20 does not apply tsx's loader hooks to a worker's
// own entry module, so this plain-JavaScript file registers tsx in the worker first, then loads the
// TypeScript worker named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.script);
