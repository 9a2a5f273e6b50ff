import { errorCodes, type FastifyInstance } from 'fastify';
import { JsonParseThread } from './json-parse-thread.ts';

/** Bodies this large or larger are parsed off the main thread (a few ms of JSON.parse below it). */
export const OFF_THREAD_JSON_BYTES = 256 * 1024;

/**
 * Fastify's JSON parser for small bodies, and the same parsing on a thread of its own for large ones
 * (json-parse-thread.ts), so that an oversized or long request does not hold up every other one while
 * it is parsed. Invalid JSON and `__proto__` keys are the same error either way (Fastify's
 * FST_ERR_CTP_INVALID_JSON_BODY, which the error handler answers with a 422).
 */
export function registerJsonBodyParser(
  app: FastifyInstance,
  offThreadFromBytes = OFF_THREAD_JSON_BYTES,
): void {
  // Fastify's own settings: a `__proto__` key is an error, a `constructor` key is left alone.
  const parseHere = app.getDefaultJsonParser('error', 'ignore');
  const thread = new JsonParseThread();
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length < offThreadFromBytes) return parseHere(request, bytes.toString('utf8'), done);
    thread.parse(bytes).then(
      (value) => done(null, value),
      () => done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined),
    );
  });
  app.addHook('onClose', async () => thread.close());
}
