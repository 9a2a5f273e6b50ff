import { ServerError } from '../errors.ts';

/**
 * The data of an `event: error` once a stream has started (the status line is already sent):
 * the message for errors meant for clients, a request id to look up in the logs otherwise.
 */
export function sseErrorData(error: unknown, requestId: string): Record<string, unknown> {
  const known = error instanceof ServerError && error.expose;
  return {
    detail: known ? error.message : `internal error (request ${requestId})`,
    code: error instanceof ServerError ? error.code : 'internal_error',
    status_code: error instanceof ServerError ? error.statusCode : 500,
  };
}
