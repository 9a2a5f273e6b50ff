/** One entry of FastAPI's 422 body: {"detail": [{type, loc, msg, input}]}, which seed clients parse. */
export interface ValidationDetail {
  type: string;
  loc: (string | number)[];
  msg: string;
  input?: unknown;
}

/** A validation failure found after schema parsing (cross-field rules), answered like a schema failure. */
export class RequestValidationError extends Error {
  readonly statusCode = 422;
  constructor(readonly details: ValidationDetail[]) {
    super(details.map((detail) => `${detail.loc.join('.')}: ${detail.msg}`).join('; '));
    this.name = 'RequestValidationError';
  }
}
