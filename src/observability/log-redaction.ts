import type { FastifyRequest } from 'fastify';

/** Query parameters whose values are secrets (the WebSocket takes the API key as ?api_key=). */
const SECRET_PARAMETERS = ['api_key', 'apikey', 'key', 'token', 'access_token'];

/** The URL with the values of secret query parameters replaced, for logs. */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt < 0) return url;
  const query = new URLSearchParams(url.slice(queryAt + 1));
  let changed = false;
  for (const name of [...query.keys()]) {
    if (!SECRET_PARAMETERS.includes(name.toLowerCase())) continue;
    query.set(name, '[redacted]');
    changed = true;
  }
  return changed ? `${url.slice(0, queryAt)}?${query.toString()}` : url;
}

/** Fastify's request log fields, with secrets masked. */
export function requestForLog(request: FastifyRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
