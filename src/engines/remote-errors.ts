import {
  EngineFailedError,
  EngineOverloadedError,
  EngineUnavailableError,
  InvalidInputError,
  type ServerError,
} from '../errors.ts';

/** The message of an OpenAI-style error body ({"error": {"message"}} or {"message"}), if any. */
export function remoteErrorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: string } | string;
      message?: string;
      detail?: unknown;
    };
    if (typeof parsed.error === 'object' && parsed.error?.message) return parsed.error.message;
    if (typeof parsed.error === 'string') return parsed.error;
    if (parsed.message) return parsed.message;
    if (parsed.detail)
      return typeof parsed.detail === 'string' ? parsed.detail : JSON.stringify(parsed.detail);
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.slice(0, 300) || 'no details';
}

/** Maps a remote engine's HTTP status to ours: overload → 503 + Retry-After, its 4xx → our 4xx. */
export function errorForStatus(
  engine: string,
  status: number,
  body: string,
  retryAfterHeader: string | null,
): ServerError {
  const message = remoteErrorMessage(body);
  const retryAfter = Number(retryAfterHeader);
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : 5;
  if (status === 429 || status === 503) {
    return new EngineOverloadedError(
      `${engine} is overloaded (HTTP ${status}: ${message}); retry later`,
      retryAfterSeconds,
    );
  }
  if (status === 400 || status === 422) {
    return new InvalidInputError(`${engine} refused the request: ${message}`, {
      statusCode: 422,
      code: 'rejected_by_engine',
    });
  }
  if (status === 502 || status === 504) {
    return new EngineUnavailableError(`${engine} is not answering properly (HTTP ${status}: ${message})`, {
      retryAfterSeconds,
    });
  }
  return new EngineFailedError(`${engine} failed (HTTP ${status}: ${message})`, { statusCode: 502 });
}

/** A connection that never got an answer: retryable, since nothing was generated. */
export function unreachable(engine: string, url: string, error: unknown): EngineUnavailableError {
  const reason =
    error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
  return new EngineUnavailableError(`${engine} at ${url} is not reachable (${reason})`, { cause: error });
}
