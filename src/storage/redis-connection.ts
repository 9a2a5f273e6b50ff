import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** What every key this server writes in Redis starts with (then the queue's name, REDIS_QUEUE). */
export const REDIS_KEY_PREFIX = 'voiceclone';

/** REDIS_URL as it may be shown in a message or a log: without its password. */
export function redactedRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return 'REDIS_URL (unparseable)';
  }
}

/**
 * Connects to REDIS_URL, or fails within `timeoutMs` with an error that names it and says what to
 * do. Once connected, a lost connection is retried for ever (every 2 s at most): commands sent while
 * it is down fail at once (no offline queue), so that callers answer 503 instead of hanging.
 */
export async function connectRedis(
  url: string,
  options: { timeoutMs?: number; logger?: Logger } = {},
): Promise<Redis> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.timeoutMs ?? 5000,
    // Not retried before it first connects: startup fails at once instead.
    retryStrategy: (attempt) => (connected ? Math.min(attempt * 200, 2000) : null),
  });
  let connected = false;
  let lastError: Error | undefined;
  let warned = false;
  client.on('error', (error: Error) => {
    lastError = error;
    // Logged once per outage, not at every reconnection attempt.
    if (!warned && options.logger) {
      warned = true;
      options.logger.warn({ err: error }, `lost Redis at ${redactedRedisUrl(url)}; reconnecting`);
    }
  });
  client.on('ready', () => {
    if (warned) options.logger?.info(`Redis at ${redactedRedisUrl(url)} is back`);
    warned = false;
  });
  const timeoutMs = options.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    await client.ping();
    connected = true;
  } catch (error) {
    client.disconnect();
    const reason = (lastError ?? (error as Error)).message;
    throw new Error(
      `could not reach Redis at REDIS_URL=${redactedRedisUrl(url)} (${reason}): start Redis there, ` +
        'fix REDIS_URL, or leave REDIS_URL empty to keep video jobs in this process',
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
  return client;
}
