import type { OpenAPIV3 } from 'openapi-types';
import type { z } from 'zod';

/** A schema in the docs: zod (converted as the routes' own are) or OpenAPI as it is (a $ref, binary). */
export type DocSchema = z.ZodType | OpenAPIV3.SchemaObject | OpenAPIV3.ReferenceObject;

export interface DocExample {
  summary?: string;
  description?: string;
  value: unknown;
}

export interface DocMedia {
  schema: DocSchema;
  example?: unknown;
  examples?: Record<string, DocExample>;
  /** For text/event-stream: each event's name, what it means and its `data`. */
  events?: Record<string, { description: string; data: DocSchema }>;
}

export interface DocHeader {
  description: string;
  schema: OpenAPIV3.SchemaObject;
}

export interface DocResponse {
  description: string;
  /** By media type; left out for an answer without a body. */
  content?: Record<string, DocMedia>;
  headers?: Record<string, DocHeader>;
}

/** One message of a WebSocket protocol. */
export interface DocMessage {
  description: string;
  schema?: DocSchema;
  example?: unknown;
}

export interface DocWebSocket {
  summary: string;
  /** Messages the client sends, by `type`. */
  client: Record<string, DocMessage>;
  /** Messages the server sends, by `type` (binary frames under a name of their own). */
  server: Record<string, DocMessage>;
  closeCodes: Record<number, string>;
}

/**
 * What /openapi.json says of a route beyond its validated schemas. It lives under `schema.docs`,
 * which Fastify neither validates with nor serializes by (unlike `schema.response`, which would
 * reshape every answer): only the swagger transform (transform.ts) reads it.
 */
export interface RouteDocs {
  /** Every answer by status; 401 (API_KEY) and 500 are added by the transform. */
  responses: Record<number, DocResponse>;
  /** A body the route reads itself (a multipart form): documented, never validated by Fastify. */
  form?: { schema: z.ZodType; examples?: Record<string, DocExample> };
  /** Examples of the JSON body the route's `body` schema validates. */
  bodyExamples?: Record<string, DocExample>;
  /** Query parameters the route reads itself, outside Fastify's validation. */
  query?: z.ZodType;
  /** Error bodies carry OpenAI's error object too (the /v1 routes' onSend hook adds it). */
  openAiErrors?: boolean;
  websocket?: DocWebSocket;
  /** OpenAPI callbacks, as they are (the video jobs' callback_url). */
  callbacks?: Record<string, OpenAPIV3.CallbackObject>;
}

declare module 'fastify' {
  interface FastifySchema {
    docs?: RouteDocs;
  }
}
