/** OpenAI's error object, which OpenAI's SDKs read, added to this server's error bodies. */

export interface ErrorBody {
  detail?: string | { loc?: (string | number)[]; msg?: string }[];
  code?: string;
}

/** The OpenAI error object for one of this server's error bodies (which it keeps). */
export function withOpenAiError(
  body: ErrorBody,
  status: number,
): ErrorBody & { error: Record<string, unknown> } {
  const issues = Array.isArray(body.detail) ? body.detail : [];
  const message =
    typeof body.detail === 'string'
      ? body.detail
      : issues
          .map((issue) => `${(issue.loc ?? []).slice(1).join('.')}: ${issue.msg ?? 'invalid'}`)
          .join('; ');
  return {
    ...body,
    error: {
      message,
      type: status < 500 ? 'invalid_request_error' : 'server_error',
      code: body.code ?? (issues.length > 0 ? 'invalid_value' : null),
      param: issues.length > 0 ? String((issues[0].loc ?? []).slice(1).join('.')) || null : null,
    },
  };
}
