import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ServerError } from '../../errors.ts';
import { pydanticItems, type SchemaIssue } from './pydantic-error-items.ts';
import { RequestValidationError } from './request-validation-error.ts';
import { logFailure } from '../../observability/log-failure.ts';

/** Where FastAPI puts a field in `loc`. */
const LOCATION: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

/**
 * The one error handler. Bad input → 4xx that says what was wrong (422 in FastAPI's shape for
 * validation, so the seed's clients keep working); our own ServerErrors keep their status, message
 * and Retry-After; anything unexpected → 500 whose message hides internals but names the request id.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof RequestValidationError) {
      return reply.status(422).send({ detail: error.details });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const location = LOCATION[error.validationContext ?? 'body'] ?? 'body';
      const sent = location === 'body' ? request.body : location === 'query' ? request.query : request.params;
      const details = error.validation.flatMap((issue) => {
        const path = issue.instancePath
          .split('/')
          .filter(Boolean)
          .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
        const params = issue.params as Omit<SchemaIssue, 'code' | 'path' | 'message'>;
        return pydanticItems(
          { ...params, code: issue.keyword, path, message: issue.message ?? 'invalid value' },
          location,
          sent,
        );
      });
      return reply.status(422).send({ detail: details });
    }
    if (error instanceof ServerError) {
      if (error.retryAfterSeconds !== undefined) reply.header('Retry-After', String(error.retryAfterSeconds));
      if (error.statusCode >= 500) logFailure(request.log, error, 'request failed');
      const message = error.expose ? error.message : `internal error (request ${request.id})`;
      return reply.status(error.statusCode).send({ detail: message, code: error.code });
    }
    if (
      error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      (error.statusCode === 400 && error instanceof SyntaxError)
    ) {
      return reply.status(422).send({
        detail: [{ type: 'json_invalid', loc: ['body'], msg: `JSON decode error: ${error.message}` }],
      });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const sent = request.headers['content-type'] ?? 'none';
      return reply.status(415).send({
        detail:
          `Content-Type ${sent} is not accepted: send a JSON body with Content-Type: application/json ` +
          '(the /video routes take multipart/form-data)',
        code: 'unsupported_media_type',
      });
    }
    const status = error.statusCode ?? 500;
    if (status < 500) {
      // Fastify's own 4xx (body too large, unsupported media type, …) already say what was wrong.
      return reply.status(status).send({ detail: error.message, code: error.code ?? 'bad_request' });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply
      .status(500)
      .send({ detail: `internal error (request ${request.id}); the server log has details` });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = ROUTE_METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
    if (allowed.length > 0) {
      // The path exists with other methods (a GET on a POST route): 405, and Allow says which.
      return reply
        .status(405)
        .header('Allow', allowed.join(', '))
        .send({
          detail: `Method Not Allowed: ${request.method} ${path} (use ${allowed.join(' or ')}; see /docs)`,
          code: 'method_not_allowed',
        });
    }
    return reply.status(404).send({ detail: `Not Found: ${request.method} ${path} (see /docs)` });
  });
}

/** Methods looked up for a 405; OPTIONS is left out, as CORS answers it for any path. */
const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;
