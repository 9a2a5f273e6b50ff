/**
 * The server's event loop while several long syntheses run at once: a server process on a synthetic
 * model answers `--concurrent` requests at a time on each route (whole WAV, JSON with base64 WAVs,
 * SSE streamed and whole, chunked HTTP, WebSocket), and for each route prints the loop's delay (p99
 * and max, perf_hooks.monitorEventLoopDelay) and its worst stall, split into work on the loop
 * (JavaScript, garbage collection) and time the thread waited for a CPU (Linux schedstat).
 *   npm run bench -- loop [--size tiny|real] [--dtype float32|int8|int4] [--concurrent 3]
 *   [--frames 1000] [--sentences 2] [--workers 1] [--routes wav,json,sse,sse-whole,http,ws]
 *   [--together: all routes' requests at once] [--scratch DIR: keep the model there, and use it again]
 * Real sizes take minutes per route: use few frames (e.g. --size real --dtype int4 --frames 30
 * --sentences 1 --routes sse,wav).
 */
import { parseArgs } from 'node:util';
import { SPEECH_ROUTES, type SpeechRoute } from './loop/concurrent-speech.ts';
import { describeRouteLag, measureLoopLag } from './loop/loop-lag-run.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'tiny' },
    dtype: { type: 'string', default: 'float32' },
    concurrent: { type: 'string', default: '3' },
    frames: { type: 'string', default: '1000' },
    sentences: { type: 'string', default: '2' },
    workers: { type: 'string', default: '1' },
    routes: { type: 'string', default: SPEECH_ROUTES.join(',') },
    scratch: { type: 'string' },
    together: { type: 'boolean', default: false },
  },
});
const routes = values.routes.split(',') as SpeechRoute[];
for (const route of routes)
  if (!SPEECH_ROUTES.includes(route))
    throw new Error(`--routes: ${route} is not one of ${SPEECH_ROUTES.join(', ')}`);

const results = await measureLoopLag(
  {
    size: values.size as 'tiny' | 'real',
    dtype: values.dtype as 'float32' | 'int8' | 'int4',
    concurrent: Number(values.concurrent),
    routes,
    frames: Number(values.frames),
    sentences: Number(values.sentences),
    workers: Number(values.workers),
    together: values.together,
    timeoutMs: 3_600_000,
    scratch: values.scratch,
  },
  console.log,
);
const audioSeconds = (Number(values.frames) * Number(values.sentences)) / 12.5;
console.log(
  `\n${values.concurrent} syntheses at once per route, ${audioSeconds.toFixed(0)} s of audio each (${values.size} ${values.dtype}):`,
);
for (const result of results) console.log(`  ${describeRouteLag(result)}`);
