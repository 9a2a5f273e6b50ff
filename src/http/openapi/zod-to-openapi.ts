import type { FastifySchema, RouteOptions } from 'fastify';
import { createJsonSchemaTransform } from 'fastify-type-provider-zod';
import type { OpenAPIV3 } from 'openapi-types';
import { z } from 'zod';
import type { DocSchema } from './route-docs.ts';

/*
 * The library tidies unions (drops empty members, folds a null member into `nullable`) inside zod's
 * conversion, while zod is still filling the members in: a member that is reused, or sits under
 * `.describe()`, is still empty then and is dropped, so voice_clone's `language` lost its
 * one-language form and OpenAI's `voice` its {"id"} form. Its hook is turned off here (it also maps
 * dates and undefined, which no HTTP schema here has) and unions are tidied on the finished schema.
 */
export const zodTransform = createJsonSchemaTransform({ zodToJsonConfig: { override: () => {} } });

export type OpenApiSchema = OpenAPIV3.SchemaObject | OpenAPIV3.ReferenceObject;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** zod writes null as {nullable: true, enum: [null]} (OpenAPI 3.0 has no null type). */
const isNullMember = (member: unknown) =>
  isObject(member) &&
  (member.type === 'null' ||
    (member.nullable === true &&
      Array.isArray(member.enum) &&
      member.enum.length === 1 &&
      member.enum[0] === null));

/** Keys whose values are data, not schemas: left as they are. */
const DATA_KEYS = new Set(['example', 'examples', 'default', 'enum', 'x-examples']);

export function tidySchema<T>(node: T): T {
  if (Array.isArray(node)) return node.map((item: unknown) => tidySchema(item)) as T;
  if (!isObject(node)) return node;
  const tidied: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && isObject(value))
      tidied[key] = Object.fromEntries(
        Object.entries(value).map(([name, field]) => [name, tidySchema(field)]),
      );
    else tidied[key] = DATA_KEYS.has(key) ? value : tidySchema(value);
  }
  // zod bounds every .int() by the safe-integer range: true, and noise in the document.
  if (tidied.minimum === Number.MIN_SAFE_INTEGER) delete tidied.minimum;
  if (tidied.maximum === Number.MAX_SAFE_INTEGER) delete tidied.maximum;
  if (!Array.isArray(tidied.anyOf)) return tidied as T;
  const members = tidied.anyOf.filter((member) => !isObject(member) || Object.keys(member).length > 0);
  const others = members.filter((member) => !isNullMember(member));
  const { anyOf: _anyOf, ...rest } = tidied;
  const nullable = others.length < members.length ? { nullable: true } : {};
  if (others.length === 0) return { ...rest, ...nullable } as T;
  // One member left: it is the schema (the outer keys, a description or a default, win).
  if (others.length === 1 && isObject(others[0])) return { ...others[0], ...rest, ...nullable } as T;
  return { ...rest, anyOf: others, ...nullable } as T;
}

// The converter reads only the schema and the document's version; a route is part of its signature.
const NO_ROUTE: RouteOptions = { method: 'GET', url: '/', handler: () => undefined };
const OPENAPI_30 = { openapi: '3.0.3' };

/** One zod schema as OpenAPI 3.0: `input` for what clients send, `output` for what they get. */
export function toOpenApiSchema(schema: DocSchema, io: 'input' | 'output'): OpenApiSchema {
  if (!(schema instanceof z.ZodType)) return schema;
  const wrapped: FastifySchema = io === 'input' ? { body: schema } : { response: { 200: schema } };
  const { schema: converted } = zodTransform({
    schema: wrapped,
    url: '/',
    route: NO_ROUTE,
    openapiObject: OPENAPI_30,
  });
  const json = io === 'input' ? converted.body : (converted.response as Record<number, unknown>)[200];
  return tidySchema(json) as OpenApiSchema;
}
