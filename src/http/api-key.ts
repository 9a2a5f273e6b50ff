import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ServerError } from '../errors.ts';

/** Paths a load balancer, a monitor or a browser must reach without the key. */
const OPEN_PATHS = new Set(['/', '/health', '/ready', '/metrics', '/ui', '/openapi.json']);
// A rendered video's unguessable name is its own key (a capability URL), so that a <video> element,
// which cannot send headers, can play it; so is a live stream's (its folder is a random UUID).
// Exported for the OpenAPI document, which marks the others.
export const isOpen = (path: string) =>
  OPEN_PATHS.has(path) ||
  path === '/docs' ||
  path.startsWith('/docs/') ||
  path.startsWith('/video/files/') ||
  path.startsWith('/video/streams/');

function presentedKey(request: FastifyRequest, path: string): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization?.toLowerCase().startsWith('bearer ')) return authorization.slice(7).trim();
  const header = request.headers['x-api-key'];
  if (typeof header === 'string') return header.trim();
  // Browsers cannot set headers on a WebSocket: the stream also takes the key as ?api_key=.
  if (path === '/v1/audio/speech/stream') {
    const query = new URLSearchParams(request.url.split('?')[1] ?? '').get('api_key');
    if (query) return query;
  }
  return undefined;
}

function sameKey(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  // Compared in constant time, so that response timing does not reveal how much of a guess was right.
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * With API_KEY set, every request but the probes, the metrics, the docs and the try-it page must carry
 * the key, as `Authorization: Bearer <key>` (what OpenAI's SDKs send) or `X-API-Key: <key>`.
 */
export function requireApiKey(app: FastifyInstance, apiKey: string): void {
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0];
    if (request.method === 'OPTIONS' || isOpen(path)) return;
    const presented = presentedKey(request, path);
    if (presented === undefined || !sameKey(presented, apiKey)) {
      throw new ServerError(
        presented === undefined
          ? 'this server needs an API key: send Authorization: Bearer <key> or X-API-Key: <key>'
          : 'the API key is not valid',
        { code: 'unauthorized', statusCode: 401, expose: true },
      );
    }
  });
}
