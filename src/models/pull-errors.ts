import { ServerError } from '../errors.ts';

/**
 * Why `models pull` failed, with a stable code: `hub_unreachable`, `hub_http_error`,
 * `checksum_mismatch`, `manifest_invalid`, `repository_not_set`, `directory_is_explicit`,
 * `variant_missing`. Messages name the endpoint, file or variable involved and what to do.
 */
export class ModelPullError extends ServerError {
  constructor(message: string, code: string, options: { isRetryable?: boolean; cause?: unknown } = {}) {
    super(message, {
      code,
      statusCode: 503,
      expose: true,
      isRetryable: options.isRetryable,
      cause: options.cause,
    });
    this.name = 'ModelPullError';
  }
}
