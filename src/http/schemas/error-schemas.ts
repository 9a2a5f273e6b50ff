import { z } from 'zod';

/*
 * The bodies of this server's error answers, as error-handler.ts writes them. They document the API in
 * /openapi.json and check it in tests; no route serializes through them.
 */

/** One item of FastAPI's 422 body (request-validation-error.ts), which the seed's clients parse. */
const validationItemSchema = z.object({
  type: z.string().describe('pydantic’s name for the failure: missing, string_type, less_than_equal, …'),
  loc: z
    .array(z.union([z.string(), z.number().int()]))
    .describe('Where: "body", "query" or "path", then the field names and list indexes'),
  msg: z.string().describe('What was wrong and what to send'),
  input: z.unknown().optional().describe('What was sent at that place, when it is short'),
});

export const validationErrorSchema = z
  .object({ detail: z.array(validationItemSchema).min(1) })
  .describe('A request that failed validation, in FastAPI’s shape');

export const errorDetailSchema = z
  .object({
    detail: z.string().describe('What was wrong and what to do; on a 500, a request id to find in the log'),
    code: z
      .string()
      .optional()
      .describe('A stable machine-readable name (ref_audio_not_found, engine_overloaded, …); none on a 500'),
  })
  .describe('Any other error');

/** What the OpenAI routes add beside `detail`, so that OpenAI's SDKs show the message. */
const openAiErrorObject = z.object({
  message: z.string(),
  type: z.enum(['invalid_request_error', 'server_error']),
  code: z.string().nullable(),
  param: z.string().nullable().describe('The first field a validation error names'),
});

export const openAiValidationErrorSchema = validationErrorSchema
  .extend({ error: openAiErrorObject })
  .describe('A validation error with OpenAI’s error object beside FastAPI’s detail');

export const openAiErrorDetailSchema = errorDetailSchema
  .extend({ error: openAiErrorObject })
  .describe('An error with OpenAI’s error object beside this server’s detail and code');

/** An error reported after a stream has started (an SSE `error` event, a failed video job). */
export const streamErrorSchema = z.object({
  detail: z.string(),
  code: z.string(),
  status_code: z.number().int().describe('The status the error would have had before the stream started'),
});
