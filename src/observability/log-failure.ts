import type { FastifyBaseLogger } from 'fastify';
import { EngineFailedError, ServerError } from '../errors.ts';

/**
 * Logs a failed request at the level its kind deserves, so that the log reads as what happened:
 * a client's mistake or departure (4xx, 499) is info without a stack; an expected server state
 * (busy, model not installed, remote engine down) is a warning without a stack; a real failure
 * (an engine that broke, anything unexpected) is an error with its stack.
 */
export function logFailure(log: FastifyBaseLogger, error: unknown, what: string, context: object = {}): void {
  if (!(error instanceof ServerError) || error instanceof EngineFailedError) {
    log.error({ err: error, ...context }, what);
    return;
  }
  const fields = { ...context, code: error.code, status: error.statusCode, ...causeOf(error) };
  if (error.statusCode < 500) log.info(fields, `${what}: ${error.message}`);
  else log.warn(fields, `${what}: ${error.message}`);
}

function causeOf(error: ServerError): { cause?: string } {
  return error.cause instanceof Error ? { cause: error.cause.message } : {};
}
