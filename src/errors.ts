/**
 * One error base for the whole server. Every error a user can cause or act on is a ServerError
 * with a stable `code`, an HTTP status, and a message that says what was wrong and what to do.
 * The HTTP error handler shows 4xx messages as they are and hides unexpected 5xx details.
 */
export interface ServerErrorOptions {
  /** Stable machine-readable name, e.g. `model_not_installed`. */
  code: string;
  statusCode: number;
  /** True when the same request may succeed later (overload, a remote engine restarting). */
  isRetryable?: boolean;
  /** Seconds a client should wait before retrying; sent as Retry-After. */
  retryAfterSeconds?: number;
  /** Whether the message may be shown to the client on a 5xx (it never leaks internals). */
  expose?: boolean;
  cause?: unknown;
}

export class ServerError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly isRetryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly expose: boolean;

  constructor(message: string, options: ServerErrorOptions) {
    super(message, { cause: options.cause });
    this.name = 'ServerError';
    this.code = options.code;
    this.statusCode = options.statusCode;
    this.isRetryable = options.isRetryable ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.expose = options.expose ?? options.statusCode < 500;
  }
}

/** The request is well-formed JSON but a value is unusable (bad audio, a path outside REF_AUDIO_DIR …). */
export class InvalidInputError extends ServerError {
  constructor(
    message: string,
    options: { code?: string; statusCode?: 400 | 404 | 409 | 413 | 415 | 422; cause?: unknown } = {},
  ) {
    super(message, {
      code: options.code ?? 'invalid_input',
      statusCode: options.statusCode ?? 400,
      cause: options.cause,
    });
    this.name = 'InvalidInputError';
  }
}

/** No model is installed or loaded for what was asked; the message says how to install one. */
export class ModelNotAvailableError extends ServerError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'model_not_available', statusCode: 503, expose: true, cause: options.cause });
    this.name = 'ModelNotAvailableError';
  }
}

/** The engine's admission queue is full, or a remote engine said it is overloaded. */
export class EngineOverloadedError extends ServerError {
  constructor(message: string, retryAfterSeconds = 5, options: { cause?: unknown } = {}) {
    super(message, {
      code: 'engine_overloaded',
      statusCode: 503,
      isRetryable: true,
      retryAfterSeconds,
      expose: true,
      cause: options.cause,
    });
    this.name = 'EngineOverloadedError';
  }
}

/** A remote engine cannot be reached or is not healthy. */
export class EngineUnavailableError extends ServerError {
  constructor(message: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, {
      code: 'engine_unavailable',
      statusCode: 503,
      isRetryable: true,
      retryAfterSeconds: options.retryAfterSeconds ?? 10,
      expose: true,
      cause: options.cause,
    });
    this.name = 'EngineUnavailableError';
  }
}

/** The engine failed while working on a request (a crashed worker, garbage from a remote engine). */
export class EngineFailedError extends ServerError {
  constructor(
    message: string,
    options: { code?: string; statusCode?: 500 | 502; isRetryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, {
      code: options.code ?? 'engine_failed',
      statusCode: options.statusCode ?? 500,
      isRetryable: options.isRetryable ?? false,
      expose: true,
      cause: options.cause,
    });
    this.name = 'EngineFailedError';
  }
}

/** The work was cancelled because the client went away or a deadline passed. */
export class CancelledError extends ServerError {
  constructor(message = 'the request was cancelled') {
    super(message, { code: 'cancelled', statusCode: 499, expose: true });
    this.name = 'CancelledError';
  }
}

/**
 * What a client may see of an error reported after its answer has started (an SSE `error` event, a
 * job's state): the message of errors meant for clients, otherwise a reference to look up in the logs.
 */
export function publicError(
  error: unknown,
  reference: string,
): { detail: string; code: string; status_code: number } {
  const known = error instanceof ServerError && error.expose;
  return {
    detail: known ? error.message : `internal error (${reference})`,
    code: error instanceof ServerError ? error.code : 'internal_error',
    status_code: error instanceof ServerError ? error.statusCode : 500,
  };
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
