/**
 * The server under hostile traffic, in its own process on a tiny synthetic model: well-behaved
 * clients, clients that stop reading, clients that leave, oversized and slow inputs, idle WebSocket sessions, then
 * SIGTERM mid-stream. Prints what each client saw, /health and event-loop latency, and memory.
 *   npm run bench -- abuse [--seconds 60] [--normal 50] [--stalled 20] [--leavers 20] [--idle 20]
 *   [--settle 60] [--stall 10] [--quiet-before 1] [--glibc-defaults]
 * The server runs with the allocator settings `npm start` gives it; --glibc-defaults leaves them out
 * (to compare). --quiet-before: seconds between the warm-up and the idle measurement (see suite.ts).
 */
import { parseArgs } from 'node:util';
import { printReport, runAbuseSuite } from './abuse/suite.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    normal: { type: 'string', default: '50' },
    stalled: { type: 'string', default: '20' },
    leavers: { type: 'string', default: '20' },
    idle: { type: 'string', default: '20' },
    settle: { type: 'string', default: '60' },
    stall: { type: 'string', default: '10' },
    'at-shutdown': { type: 'string', default: '5' },
    'quiet-before': { type: 'string', default: '1' },
    'glibc-defaults': { type: 'boolean', default: false },
  },
});

const report = await runAbuseSuite({
  seconds: Number(values.seconds),
  normal: Number(values.normal),
  stalledReaders: Number(values.stalled),
  leavers: Number(values.leavers),
  idleSessions: Number(values.idle),
  settleSeconds: Number(values.settle),
  stallSeconds: Number(values.stall),
  streamsAtShutdown: Number(values['at-shutdown']),
  quietBeforeSeconds: Number(values['quiet-before']),
  startEnvironment: !values['glibc-defaults'],
});
printReport(report);
