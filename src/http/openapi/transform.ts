import type { SwaggerTransform } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import { isOpen } from '../api-key.ts';
import { errorResponse } from './responses.ts';
import type { DocExample, DocMedia, DocMessage, DocResponse, RouteDocs } from './route-docs.ts';
import { tidySchema, toOpenApiSchema, zodTransform } from './zod-to-openapi.ts';

export interface OpenApiTransformOptions {
  /** API_KEY is set: the routes it guards list the key as their security requirement. */
  apiKeyRequired: boolean;
}

const mapValues = <T, U>(record: Record<string, T>, map: (value: T) => U): Record<string, U> =>
  Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));

function media({ schema, example, examples, events }: DocMedia) {
  return {
    schema: toOpenApiSchema(schema, 'output'),
    ...(example === undefined ? {} : { example }),
    ...(examples ? { examples } : {}),
    ...(events
      ? {
          'x-sse-events': mapValues(events, (event) => ({
            description: event.description,
            data: toOpenApiSchema(event.data, 'output'),
          })),
        }
      : {}),
  };
}

/** A response as @fastify/swagger reads it: headers as schemas, `type: 'null'` for no body. */
function response({ description, content, headers }: DocResponse) {
  return {
    description,
    ...(headers
      ? { headers: mapValues(headers, (header) => ({ ...header.schema, description: header.description })) }
      : {}),
    ...(content ? { content: mapValues(content, media) } : { type: 'null' }),
  };
}

function message({ description, schema, example }: DocMessage, io: 'input' | 'output') {
  return {
    description,
    ...(schema ? { schema: toOpenApiSchema(schema, io) } : {}),
    ...(example === undefined ? {} : { example }),
  };
}

/** What a route's docs add to its schema, in the form @fastify/swagger turns into the operation. */
function documented(
  docs: RouteDocs,
  declared: FastifySchema,
  url: string,
  options: OpenApiTransformOptions,
): Record<string, unknown> {
  const guarded = !isOpen(url);
  const openAi = docs.openAiErrors ?? false;
  const responses: Record<number, DocResponse> = { ...docs.responses };
  if (guarded)
    responses[401] ??= errorResponse(
      401,
      'API_KEY is set and the request carries no key, or a wrong one (Authorization: Bearer <key> or X-API-Key)',
      openAi,
    );
  responses[500] ??= errorResponse(
    500,
    'An unexpected failure: the detail names the request id to look up in the server log',
    openAi,
  );
  const added: Record<string, unknown> = { response: mapValues(responses, response) };
  const withExamples = (body: unknown, examples?: Record<string, DocExample>) =>
    examples ? { ...(body as object), 'x-examples': examples } : body;
  if (docs.form) {
    added.body = withExamples(toOpenApiSchema(docs.form.schema, 'input'), docs.form.examples);
    added.consumes = ['multipart/form-data'];
  } else if (declared.body && docs.bodyExamples) {
    added.body = withExamples(declared.body, docs.bodyExamples);
  }
  if (docs.query) added.querystring = toOpenApiSchema(docs.query, 'input');
  if (docs.websocket) {
    const { summary, client, server, closeCodes } = docs.websocket;
    added['x-websocket'] = {
      summary,
      clientMessages: mapValues(client, (sent) => message(sent, 'input')),
      serverMessages: mapValues(server, (sent) => message(sent, 'output')),
      closeCodes,
    };
  }
  if (docs.callbacks) added.callbacks = docs.callbacks;
  if (options.apiKeyRequired && guarded)
    added.security = [
      { bearerAuth: [] },
      { apiKeyHeader: [] },
      // Browsers cannot set headers on a WebSocket: it also takes the key in its query.
      ...(docs.websocket ? [{ apiKeyQuery: [] }] : []),
    ];
  return added;
}

/**
 * The swagger transform: zod schemas to OpenAPI (as the type provider converts them, with unions
 * tidied), then each route's `docs`: its responses, a multipart body, examples, a WebSocket's
 * protocol. None of it reaches Fastify's validation or serialization.
 */
export function openApiTransform(options: OpenApiTransformOptions): SwaggerTransform {
  return (document) => {
    const { docs, ...declared } = document.schema ?? {};
    // @fastify/websocket hides every WebSocket route; one that has docs is documented on purpose.
    const shown = document.route.websocket && docs ? { ...declared, hide: false } : declared;
    const { schema, url } = zodTransform({ ...document, schema: shown });
    if (schema.hide) return { schema, url };
    const tidied = tidySchema(schema);
    if (!docs) return { schema: tidied, url };
    return { url, schema: { ...tidied, ...documented(docs, tidied, url, options) } };
  };
}
