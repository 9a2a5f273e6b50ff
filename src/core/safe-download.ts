import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { CancelledError, InvalidInputError } from '../errors.ts';
import { pinnedLookup, resolveCheckedAddress, systemResolver, type Resolver } from './public-address.ts';

export { isPrivateAddress, type Resolver } from './public-address.ts';

export interface SafeDownloadOptions {
  maxBytes: number;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  /** Slower than this on average, measured after the first few seconds, the download is given up. */
  minBytesPerSecond?: number;
  allowPrivateAddresses: boolean;
  maxRedirects?: number;
  signal?: AbortSignal;
  /** For tests: how host names become addresses (default: the system resolver). */
  resolver?: Resolver;
}

const refuse = (message: string, statusCode: 400 | 413 | 422 = 422) =>
  new InvalidInputError(message, { code: 'ref_audio_download_failed', statusCode });

/**
 * Downloads a URL with a byte cap, connect and total timeouts, and redirects re-checked. The host is
 * resolved once, every address is checked, and the connection goes to the checked address, so DNS
 * rebinding cannot swap in a private one between check and connect.
 */
export async function safeDownload(
  url: string,
  options: SafeDownloadOptions,
): Promise<{ bytes: Buffer; contentType: string }> {
  const resolver = options.resolver ?? systemResolver;
  const deadline = AbortSignal.timeout(options.totalTimeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let current = new URL(url);
  for (let redirects = 0; ; redirects += 1) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw refuse(`ref_audio URLs must be http or https, not ${current.protocol}`, 400);
    }
    const address = await checkedAddress(current.hostname, resolver, options.allowPrivateAddresses);
    const response = await request(current, address, options, signal, deadline);
    if (response.redirect) {
      if (redirects >= (options.maxRedirects ?? 3))
        throw refuse(`too many redirects downloading ref_audio from ${current.host}`);
      current = new URL(response.redirect, current);
      continue;
    }
    return { bytes: response.bytes!, contentType: response.contentType };
  }
}

function checkedAddress(hostname: string, resolver: Resolver, allowPrivate: boolean): Promise<LookupAddress> {
  return resolveCheckedAddress(hostname, {
    resolver,
    allowPrivate,
    unresolvable: () => refuse(`could not download ref_audio: the host ${hostname} does not resolve`),
    refused: () =>
      refuse(
        `ref_audio URL host ${hostname} is a loopback, private or link-local address, which this server does not fetch ` +
          '(set REF_AUDIO_ALLOW_PRIVATE_URLS=true to allow it)',
        400,
      ),
  });
}

function request(
  url: URL,
  address: LookupAddress,
  options: SafeDownloadOptions,
  signal: AbortSignal,
  deadline: AbortSignal,
): Promise<{ redirect?: string; bytes?: Buffer; contentType: string }> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const outgoing = client.get(url, {
      lookup: pinnedLookup(address),
      signal,
      headers: { 'user-agent': 'voice-clone-server' },
    });
    const connectTimer = setTimeout(
      () =>
        outgoing.destroy(
          refuse(
            `could not download ref_audio from ${url.host}: connecting took over ${options.connectTimeoutMs} ms`,
          ),
        ),
      options.connectTimeoutMs,
    );
    outgoing.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    outgoing.on('error', (error) => {
      clearTimeout(connectTimer);
      if (error instanceof InvalidInputError) return reject(error);
      if (deadline.aborted)
        return reject(
          refuse(`could not download ref_audio from ${url.host}: it took over ${options.totalTimeoutMs} ms`),
        );
      if (signal.aborted) return reject(new CancelledError());
      reject(refuse(`could not download ref_audio from ${url.host}: ${error.message}`));
    });
    outgoing.on('response', (response) => {
      clearTimeout(connectTimer);
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        return resolve({ redirect: response.headers.location, contentType: '' });
      }
      if (status < 200 || status >= 300) {
        response.resume();
        return reject(refuse(`could not download ref_audio from ${url.host}: it answered HTTP ${status}`));
      }
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > options.maxBytes) {
        response.destroy();
        return reject(
          refuse(
            `ref_audio at ${url.host} is ${declared} bytes; the limit is ${options.maxBytes} (REF_AUDIO_MAX_BYTES)`,
            413,
          ),
        );
      }
      const chunks: Buffer[] = [];
      let received = 0;
      const stopWatching = watchRate(
        () => received,
        options.minBytesPerSecond,
        (rate) => {
          reject(
            refuse(
              `could not download ref_audio from ${url.host}: it arrives at ${rate} bytes/s, under the ` +
                `${options.minBytesPerSecond} bytes/s this server waits for (REF_AUDIO_URL_MIN_BYTES_PER_S)`,
            ),
          );
          response.destroy();
          outgoing.destroy();
        },
      );
      response.on('close', stopWatching);
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > options.maxBytes) {
          // Once a response has started, destroying the request no longer emits 'error': settle here.
          reject(
            refuse(
              `ref_audio at ${url.host} is over the limit of ${options.maxBytes} bytes (REF_AUDIO_MAX_BYTES)`,
              413,
            ),
          );
          response.destroy();
          outgoing.destroy();
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () =>
        resolve({
          bytes: Buffer.concat(chunks),
          contentType: String(response.headers['content-type'] ?? ''),
        }),
      );
      response.on('error', (error) =>
        reject(
          deadline.aborted
            ? refuse(
                `could not download ref_audio from ${url.host}: it took over ${options.totalTimeoutMs} ms`,
              )
            : refuse(`could not download ref_audio from ${url.host}: ${error.message}`),
        ),
      );
      response.on('aborted', () =>
        reject(refuse(`could not download ref_audio from ${url.host}: the connection was cut`)),
      );
    });
  });
}

/** Time a download may take before its average rate is judged: a slow start is not yet a slow link. */
const RATE_GRACE_MS = 3000;

/** Calls `tooSlow` once if the average rate since the start falls under `minBytesPerSecond`. */
function watchRate(
  received: () => number,
  minBytesPerSecond: number | undefined,
  tooSlow: (bytesPerSecond: number) => void,
): () => void {
  if (!minBytesPerSecond) return () => {};
  const startedAt = Date.now();
  const timer = setInterval(() => {
    const elapsedMs = Date.now() - startedAt;
    if (elapsedMs < RATE_GRACE_MS) return;
    const rate = Math.round((received() * 1000) / elapsedMs);
    if (rate < minBytesPerSecond) {
      clearInterval(timer);
      tooSlow(rate);
    }
  }, 500);
  timer.unref();
  return () => clearInterval(timer);
}
