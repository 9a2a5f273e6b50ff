import type { Server } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { collectGarbage } from './garbage-collection.ts';
import { IdleMemoryRelease } from './idle-memory-release.ts';
import { nativeHeapTrim } from './native-heap.ts';

/** Methods that only read: probes, scrapes, downloads and pages, which leave little behind. */
const READING = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Watches `server` for work (requests that compute or store something, and WebSocket sessions) and,
 * `idleMs` after the last of it ended with none running, collects the main thread's garbage and
 * trims the allocator's arenas. Probes and scrapes do not count as work, so a server polled by its
 * orchestrator still releases once, and not after every poll.
 */
export function releaseMemoryWhenIdle(
  server: Server,
  idleMs: number,
  log: Pick<FastifyBaseLogger, 'debug'>,
  release: () => void = collectAndTrim(),
): IdleMemoryRelease {
  const watcher = new IdleMemoryRelease({
    idleMs,
    release: () => {
      const rssBefore = process.memoryUsage.rss();
      const startedAt = performance.now();
      release();
      log.debug(
        {
          ms: Math.round(performance.now() - startedAt),
          rssMbBefore: Math.round(rssBefore / 2 ** 20),
          rssMbAfter: Math.round(process.memoryUsage.rss() / 2 ** 20),
        },
        'idle: gave memory back to the system',
      );
    },
  });
  server.on('request', (request, response) => {
    if (READING.has(request.method ?? 'GET')) return;
    watcher.requestStarted();
    response.once('close', () => watcher.requestEnded());
  });
  server.on('upgrade', (_request, socket) => {
    watcher.requestStarted();
    socket.once('close', () => watcher.requestEnded());
  });
  watcher.start();
  return watcher;
}

function collectAndTrim(): () => void {
  // Loaded at the first release, not at start: loading the FFI takes tens of ms.
  let trim: (() => void) | undefined | null = null;
  return () => {
    collectGarbage();
    if (trim === null) trim = nativeHeapTrim();
    trim?.();
  };
}
