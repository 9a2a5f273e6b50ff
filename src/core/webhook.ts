import { createHmac } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { InvalidInputError } from '../errors.ts';
import { pinnedLookup, resolveCheckedAddress, systemResolver, type Resolver } from './public-address.ts';

export interface WebhookOptions {
  /** Signs each body: `X-Signature: sha256=HMAC(secret, "<X-Timestamp>.<body>")`. Empty: unsigned. */
  secret: string;
  allowPrivateAddresses: boolean;
  attempts?: number;
  timeoutMs?: number;
  /** Seconds before the 2nd, 3rd … attempt. */
  backoffSeconds?: number[];
  resolver?: Resolver;
}

/** A callback URL a client may give: absolute http(s). Its address is checked when it is called. */
export function checkCallbackUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError(`callback_url is not a URL: ${JSON.stringify(value)}`, {
      code: 'invalid_callback_url',
      statusCode: 422,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidInputError('callback_url must be http:// or https://', {
      code: 'invalid_callback_url',
      statusCode: 422,
    });
  return url;
}

/** The signature a receiver recomputes to know the call came from this server, unaltered. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs a JSON body to a client's callback URL, signed, retried on network errors, 429 and 5xx. The
 * host is resolved once and every address checked (no loopback, private or link-local address unless
 * allowed), and the connection goes to the checked address, so DNS rebinding cannot redirect it.
 * Resolves with the final status; never throws (a client's broken endpoint is the client's problem,
 * logged by the caller).
 */
export async function postWebhook(
  url: URL,
  payload: unknown,
  options: WebhookOptions,
): Promise<{ delivered: boolean; status?: number; error?: string; attempts: number }> {
  const body = JSON.stringify(payload);
  const attempts = options.attempts ?? 3;
  const backoff = options.backoffSeconds ?? [2, 8];
  let last: { status?: number; error?: string } = {};
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, (backoff[attempt - 2] ?? 8) * 1000));
    try {
      const address = await checkedAddress(url.hostname, options);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'x-timestamp': timestamp,
      };
      if (options.secret) headers['x-signature'] = webhookSignature(options.secret, timestamp, body);
      const status = await send(url, address, headers, body, options.timeoutMs ?? 10_000);
      if (status < 300) return { delivered: true, status, attempts: attempt };
      last = { status };
      if (status !== 429 && status < 500) return { delivered: false, status, attempts: attempt };
    } catch (error) {
      last = { error: error instanceof Error ? error.message : String(error) };
      if (error instanceof InvalidInputError) return { delivered: false, ...last, attempts: attempt };
    }
  }
  return { delivered: false, ...last, attempts };
}

function checkedAddress(hostname: string, options: WebhookOptions): Promise<LookupAddress> {
  return resolveCheckedAddress(hostname, {
    resolver: options.resolver ?? systemResolver,
    allowPrivate: options.allowPrivateAddresses,
    unresolvable: () => new Error(`${hostname} does not resolve`),
    refused: () =>
      new InvalidInputError(
        `callback_url host ${hostname} is a loopback, private or link-local address (set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow)`,
        { code: 'invalid_callback_url' },
      ),
  });
}

function send(
  url: URL,
  address: LookupAddress,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'POST', headers, lookup: pinnedLookup(address), timeout: timeoutMs },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}
