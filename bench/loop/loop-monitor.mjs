// Preloaded into a server process (node --import ./bench/loop/loop-monitor.mjs …): watches
// the main thread's event loop and, on SIGUSR2, writes what it saw since the previous SIGUSR2 to the
// file LOOP_MONITOR_FILE names, then starts over (the report's shape: loop-report.ts). Worker threads
// inherit the preload and are left out; it is plain JavaScript because they start without tsx.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
// Imported, not global: this file is plain JavaScript, linted without Node's globals.
import process from 'node:process';
import { setTimeout } from 'node:timers';

/** How often the loop is looked at: a gap between two looks longer than this is lag. */
const TICK_MS = 5;
/** perf_hooks' garbage collection kinds (NODE_PERFORMANCE_GC_*). */
const GC_KINDS = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weak callbacks' };
/** Gaps kept for the report (the longest). */
const KEEP = 8;

/**
 * The main thread's time on a CPU and waiting for one, in ms (Linux schedstat; undefined elsewhere).
 * A turn of the loop that took long while the thread sat in the run queue was the machine's doing
 * (other processes on the cores), not work done on the loop.
 */
/** @returns {{ runningMs: number, waitingMs: number } | undefined} */
function schedstat() {
  try {
    const [running, waiting] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8')
      .split(' ')
      .map(Number);
    return { runningMs: running / 1e6, waitingMs: waiting / 1e6 };
  } catch {
    return undefined;
  }
}

/** @param {string} file */
function start(file) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  /** @type {{ start: number, end: number, kind: string }[]} */
  const collections = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      collections.push({
        start: entry.startTime,
        end: entry.startTime + entry.duration,
        kind: GC_KINDS[/** @type {{ kind?: number }} */ (entry.detail)?.kind ?? 0] ?? 'other',
      });
  }).observe({ entryTypes: ['gc'] });

  /** @type {import('./loop-report.ts').LoopStall[]} */
  let stalls = [];
  let windowStartedAt = performance.now();
  let sequence = 0;
  let lastAt = performance.now();
  let last = schedstat();
  const look = () => {
    const now = performance.now();
    const stat = schedstat();
    const lagMs = now - lastAt - TICK_MS;
    if (lagMs > 10) {
      const waitingMs = stat && last ? stat.waitingMs - last.waitingMs : 0;
      const within = collections.filter((gc) => gc.end > lastAt && gc.start < now);
      const gcMs = within.reduce((sum, gc) => sum + Math.min(gc.end, now) - Math.max(gc.start, lastAt), 0);
      const ownMs = Math.max(0, lagMs - waitingMs);
      stalls.push({
        atSeconds: (lastAt - windowStartedAt) / 1000,
        lagMs,
        waitingForCpuMs: waitingMs,
        ownMs,
        gcMs,
        gcKinds: [...new Set(within.map((gc) => gc.kind))],
        // A collection's duration is wall time, waits for a CPU included: the share of the lag it
        // took is the share of the server's own time it is charged with.
        outsideGcMs: Math.max(0, ownMs - (gcMs * ownMs) / lagMs),
      });
      stalls.sort((a, b) => b.outsideGcMs - a.outsideGcMs || b.ownMs - a.ownMs);
      stalls.length = Math.min(stalls.length, KEEP);
    }
    // Collections older than this look cannot fall in a later gap.
    while (collections.length > 0 && collections[0].end < now) collections.shift();
    lastAt = now;
    last = stat;
    setTimeout(look, TICK_MS).unref();
  };
  setTimeout(look, TICK_MS).unref();

  process.on('SIGUSR2', () => {
    sequence += 1;
    /** @type {import('./loop-report.ts').LoopReport} */
    const report = {
      sequence,
      seconds: (performance.now() - windowStartedAt) / 1000,
      schedstat: last !== undefined,
      p99Ms: histogram.percentile(99) / 1e6,
      maxMs: histogram.max / 1e6,
      stalls,
    };
    // Written whole and then renamed, so that a reader never sees half a report.
    writeFileSync(`${file}.partial`, JSON.stringify(report));
    renameSync(`${file}.partial`, file);
    histogram.reset();
    stalls = [];
    windowStartedAt = performance.now();
  });
}

const file = process.env.LOOP_MONITOR_FILE;
if (isMainThread && file) start(file);
