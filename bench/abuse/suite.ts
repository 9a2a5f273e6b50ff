import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ffmpegPath } from '../../src/media/ffmpeg.ts';
import { writeSyntheticQwen3Model } from '../../src/models/synth-qwen3.ts';
import {
  ADDRESSES,
  abuser,
  cacheFiller,
  leaver,
  longText,
  normalClient,
  stalledReader,
  SPEECH_BODY,
  startTrickleServer,
  websocketAbuse,
} from './clients.ts';
import { describeChange, memoryBreakdown, type MemoryBreakdown } from './memory.ts';
import { Outcomes, percentile } from './outcomes.ts';
import { checkQueue, queueRecordOf, type QueueCheck } from './queue-check.ts';
import { startScriptEnvironment, startServerProcess, type ServerProcess } from './server-process.ts';

const run = promisify(execFile);

export interface SuiteOptions {
  seconds: number;
  normal: number;
  stalledReaders: number;
  leavers: number;
  idleSessions: number;
  /** How long to wait after the load before measuring memory again. */
  settleSeconds: number;
  /**
   * How long the server stays quiet after its warm-up before idle is measured (default 1 s). Until
   * its first full collection, the main thread's V8 heap still holds the start-up's garbage, which a
   * quiet server frees about a minute after it starts; 90 s measures idle after that.
   */
  quietBeforeSeconds?: number;
  /** Streams running when SIGTERM arrives. */
  streamsAtShutdown: number;
  stallSeconds: number;
  /**
   * Start the server with the allocator settings `npm start` gives it (package.json); false: glibc's
   * defaults (unless the caller's environment sets them), to compare.
   */
  startEnvironment?: boolean;
}

export interface SuiteReport {
  options: SuiteOptions;
  outcomes: Outcomes;
  health: { count: number; failed: number; p50Ms: number; p99Ms: number; maxMs: number };
  eventLoop: { p99Ms: number; maxMs: number } | undefined;
  memoryMb: { idle?: number; peak?: number; after?: number };
  /** Where the memory was at idle and after the settle (what stays, and in what). */
  memory: { idle?: MemoryBreakdown; after?: MemoryBreakdown };
  /** Whether well-behaved requests were served as the fair line promises (see queue-check.ts). */
  queue: QueueCheck;
  voiceCache: { bytes: number; limitBytes: number };
  shutdown: { code: number | null; signal: string | null; seconds: number; told: number; untold: number };
}

const SESSION_TEXT_LIMIT = 20000;
const VOICE_CACHE_MB = 1;

/** Reads gauges of the server's Prometheus metrics, in milliseconds (one scrape: a scrape resets lag). */
async function gaugesMs(base: string, names: string[]): Promise<(number | undefined)[]> {
  const text = await fetch(`${base}/metrics`).then((response) => response.text());
  return names.map((name) => {
    const value = new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1];
    return value === undefined ? undefined : Number(value) * 1000;
  });
}

function directoryBytes(directory: string): number {
  try {
    return readdirSync(directory).reduce((sum, name) => sum + statSync(path.join(directory, name)).size, 0);
  } catch {
    return 0;
  }
}

/** /health latencies, probed from a process of its own (see health-prober.ts). */
async function probeHealth(base: string, seconds: number, latencies: number[]): Promise<number> {
  const prober = fileURLToPath(new URL('health-prober.ts', import.meta.url));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', prober, base, String(seconds)], {
    timeout: (seconds + 30) * 1000,
  });
  const result = JSON.parse(stdout) as { latenciesMs: number[]; failed: number };
  latencies.push(...result.latenciesMs);
  return result.failed;
}

async function sampleMemory(server: ServerProcess, until: number): Promise<number | undefined> {
  let peak: number | undefined;
  while (Date.now() < until) {
    const rss = server.rssMb();
    if (rss !== undefined) peak = Math.max(peak ?? 0, rss);
    await sleep(200);
  }
  return peak;
}

/**
 * Streams that are mid-way (running or queued) when SIGTERM comes: each must be told, by a `done`
 * or `error` event, or, if it never started, by an error response.
 */
async function shutdownMidStream(server: ServerProcess, streams: number) {
  let spoken!: () => void;
  const firstAudio = new Promise<void>((resolve) => (spoken = resolve));
  const endings = Array.from({ length: streams }, async () => {
    const response = await fetch(`${server.base}/tts/voice_clone/sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...SPEECH_BODY,
        text: longText(60),
      }),
      signal: AbortSignal.timeout(120000),
    }).catch(() => undefined);
    if (!response) return false;
    if (response.status !== 200) return /"detail"/.test(await response.text());
    const reader = response.body!.getReader();
    let body = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      body += new TextDecoder().decode(value);
      if (body.includes('event: audio')) spoken();
    }
    return /event: (done|error)/.test(body);
  });
  // SIGTERM once a stream speaks (or once all have ended, if none ever does).
  await Promise.race([firstAudio, Promise.all(endings)]);
  const exit = await server.terminate(60000);
  const told = await Promise.all(endings);
  return {
    ...exit,
    told: told.filter(Boolean).length,
    untold: told.filter((ok) => !ok).length,
  };
}

export async function runAbuseSuite(options: SuiteOptions, log = console.log): Promise<SuiteReport> {
  const directory = mkdtempSync(path.join(tmpdir(), 'load-and-abuse-'));
  const trickle = await startTrickleServer();
  let server: ServerProcess | undefined;
  try {
    log('writing a tiny synthetic model and a reference recording …');
    const model = path.join(directory, 'model');
    await writeSyntheticQwen3Model(model, {
      key: 'base_0.6b',
      dtype: 'float32',
      size: 'tiny',
      eosPosition: 120,
    });
    const references = path.join(directory, 'ref_audio');
    const cache = path.join(directory, 'cache');
    mkdirSync(references, { recursive: true });
    execFileSync(ffmpegPath(), [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=220:duration=3', '-ac', '1'],
      path.join(references, SPEECH_BODY.ref_audio),
    ]);
    const startEnvironment = options.startEnvironment === false ? {} : startScriptEnvironment();
    log(
      `server environment as npm start sets it: ${
        Object.entries(startEnvironment)
          .map(([name, value]) => `${name}=${value}`)
          .join(' ') || 'none (glibc defaults)'
      }`,
    );
    server = await startServerProcess({
      ...startEnvironment,
      MODEL_0_6B_BASE: model,
      REF_AUDIO_DIR: references,
      CACHE_DIR: cache,
      VIDEO_OUTPUT_DIR: path.join(directory, 'videos'),
      REF_AUDIO_ALLOW_PRIVATE_URLS: 'true', // the 1 byte/s server is on loopback
      STREAM_STALL_TIMEOUT_S: String(options.stallSeconds),
      STREAM_IDLE_TIMEOUT_S: String(options.stallSeconds),
      STREAM_SESSION_MAX_TEXT: String(SESSION_TEXT_LIMIT),
      VOICE_CACHE_DISK_MB: String(VOICE_CACHE_MB),
      SHUTDOWN_GRACE_S: '2',
      LOG_LEVEL: 'error',
    });
    const base = server.base;
    log(`server up at ${base}; warming up …`);
    const outcomes = new Outcomes();
    await fetch(`${base}/tts/voice_clone`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SPEECH_BODY),
    }).then(async (response) => {
      await response.arrayBuffer();
      outcomes.addQueue(queueRecordOf('warm-up', '127.0.0.1', response.headers));
    });
    await sleep((options.quietBeforeSeconds ?? 1) * 1000);
    const idle = server.rssMb();
    const idleMemory = await memoryBreakdown(server.pid, base); // this scrape also resets the lag histogram

    log(
      `load: ${options.normal} normal clients, ${options.stalledReaders} stalled readers, ${options.leavers} leavers, ` +
        `oversized inputs and ${options.idleSessions} idle WebSocket sessions for ${options.seconds} s …`,
    );
    const until = Date.now() + options.seconds * 1000;
    const latencies: number[] = [];
    const clients: Promise<unknown>[] = [
      ...Array.from({ length: options.normal }, (_, index) =>
        normalClient(base, until, outcomes, ADDRESSES.normal(index)),
      ),
      ...Array.from({ length: options.stalledReaders }, () =>
        // Paused long enough for the server to fill its buffer and the kernel's (megabytes) and then
        // wait out its stall timeout, even on a busy machine where generation is slow.
        stalledReader(base, until, Math.max(30, 2 * options.stallSeconds + 10), outcomes),
      ),
      ...Array.from({ length: options.leavers }, () => leaver(base, until, outcomes)),
      abuser(base, trickle.url, until, outcomes),
      cacheFiller(base, until, outcomes),
      websocketAbuse(base, 'too much text', SESSION_TEXT_LIMIT, outcomes),
      websocketAbuse(base, '2 MB message', SESSION_TEXT_LIMIT, outcomes),
      ...Array.from({ length: options.idleSessions }, () =>
        websocketAbuse(base, 'idle', SESSION_TEXT_LIMIT, outcomes),
      ),
    ];
    const [healthFailed, peak] = await Promise.all([
      probeHealth(base, options.seconds, latencies),
      sampleMemory(server, until),
      Promise.all(clients),
    ]);
    // Clients finish what they started after `until`; the peak covers that too.
    const afterLoadPeak = Math.max(peak ?? 0, server.rssMb() ?? 0);
    const [eventLoopMax, eventLoopP99] = await gaugesMs(base, [
      'nodejs_eventloop_lag_max_seconds',
      'nodejs_eventloop_lag_p99_seconds',
    ]);

    log(`load over; waiting ${options.settleSeconds} s for memory to settle …`);
    await sleep(options.settleSeconds * 1000);
    const after = server.rssMb();
    const afterMemory = await memoryBreakdown(server.pid, base);

    log(`SIGTERM with ${options.streamsAtShutdown} streams running …`);
    const shutdown = await shutdownMidStream(server, options.streamsAtShutdown);
    server = undefined;

    return {
      options,
      outcomes,
      health: {
        count: latencies.length,
        failed: healthFailed,
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        maxMs: Math.max(...latencies),
      },
      eventLoop:
        eventLoopMax === undefined || eventLoopP99 === undefined
          ? undefined
          : { p99Ms: eventLoopP99, maxMs: eventLoopMax },
      memoryMb: { idle, peak: afterLoadPeak || undefined, after },
      memory: { idle: idleMemory, after: afterMemory },
      queue: checkQueue(outcomes.queue, 'normal'),
      voiceCache: { bytes: directoryBytes(path.join(cache, 'voices')), limitBytes: VOICE_CACHE_MB << 20 },
      shutdown,
    };
  } finally {
    server?.kill();
    await trickle.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

export function printReport(report: SuiteReport, log = console.log): void {
  const { outcomes } = report;
  log('\noutcomes (count; median / worst seconds where timed)');
  for (const kind of outcomes.kinds()) {
    const parts = Object.entries(outcomes.of(kind)).map(([outcome, count]) => {
      const timing = outcomes.timing(kind, outcome);
      return timing
        ? `${outcome} ${count} (${timing.median.toFixed(2)} / ${timing.max.toFixed(2)} s)`
        : `${outcome} ${count}`;
    });
    log(`  ${kind.padEnd(40)} ${parts.join(', ')}`);
  }
  const { health, eventLoop, memoryMb, voiceCache, shutdown, queue } = report;
  log(
    `queue: ${queue.checked} well-behaved requests told their place; places on arrival up to ${queue.maxPosition}, ` +
      `served after up to ${queue.maxTurnsWaited} other turns (${queue.overtaken} after more turns than their place, ` +
      `by up to ${queue.maxOvertakenBy}: later arrivals whose client's last turn was earlier); waited ` +
      `${queue.waitSeconds.median.toFixed(1)} s median, ${queue.waitSeconds.max.toFixed(1)} s at most`,
  );
  log(
    `  every turn while one waited went to a client whose last turn was earlier (no client served twice ahead of it): ` +
      `${queue.violations.length === 0 ? 'yes' : `NO, ${queue.violations.length} times`}` +
      (queue.unattributed > 0
        ? ` (${queue.unattributed} turns not attributable: their answers were not seen)`
        : ''),
  );
  for (const violation of queue.violations.slice(0, 5)) log(`    ${violation}`);
  log(
    `/health: ${health.count} probes, ${health.failed} failed, p50 ${health.p50Ms.toFixed(1)} ms, ` +
      `p99 ${health.p99Ms.toFixed(1)} ms, max ${health.maxMs.toFixed(1)} ms`,
  );
  if (eventLoop)
    log(
      `event loop lag during the load: p99 ${eventLoop.p99Ms.toFixed(1)} ms, max ${eventLoop.maxMs.toFixed(1)} ms`,
    );
  const mb = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(0)} MB`);
  log(
    `memory (RSS): idle ${mb(memoryMb.idle)} (${report.options.quietBeforeSeconds ?? 1} s after the warm-up), peak ${mb(memoryMb.peak)}, ` +
      `${report.options.settleSeconds} s after ${mb(memoryMb.after)}` +
      (memoryMb.idle && memoryMb.after
        ? ` (${(((memoryMb.after - memoryMb.idle) / memoryMb.idle) * 100).toFixed(1)} % over idle)`
        : ''),
  );
  const { idle: idleMemory, after: afterMemory } = report.memory;
  if (idleMemory && afterMemory)
    log(`  where, MB (idle → after): ${describeChange(idleMemory, afterMemory)}`);
  log(
    `voice cache on disk: ${(voiceCache.bytes / 1024).toFixed(0)} KB of ${(voiceCache.limitBytes / 1024).toFixed(0)} KB allowed`,
  );
  log(
    `SIGTERM mid-stream: exit ${shutdown.code ?? shutdown.signal} after ${shutdown.seconds.toFixed(1)} s; ` +
      `${shutdown.told} streams told (done or error event), ${shutdown.untold} cut without a word`,
  );
}
