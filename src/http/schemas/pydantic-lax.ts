import { z } from 'zod';

/**
 * The conversions pydantic's lax mode makes for the seed's server, so that every body it accepted is
 * accepted here with the same meaning: "true"/"yes"/1 → true, "12" → 12, "0.7" → 0.7, true → 1.
 * What cannot be converted is passed on unchanged and refused by the inner schema (422).
 */

/** pydantic's accepted spellings, compared without regard to case. */
const TRUE_WORDS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_WORDS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);
const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/;
const NUMBER_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

function toBoolean(value: unknown): unknown {
  if (value === 0 || value === 1) return value === 1;
  if (typeof value !== 'string') return value;
  const word = value.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return value;
}

function toInteger(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && INTEGER_TEXT.test(value)) return Number(value);
  return value;
}

function toNumber(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && NUMBER_TEXT.test(value)) return Number(value);
  return value;
}

export function laxBoolean() {
  return z.preprocess(toBoolean, z.boolean());
}

/**
 * The message of a value that is no number at all where an integer was wanted: zod says "expected
 * number" for both, and the 422 must tell pydantic's `int_parsing`/`int_type` from `float_*`.
 */
export const NOT_AN_INTEGER = 'Input should be a valid integer';

export function laxInteger(bounds: { min?: number; max?: number } = {}) {
  let inner = z.number({ error: () => NOT_AN_INTEGER }).int();
  if (bounds.min !== undefined) inner = inner.min(bounds.min);
  if (bounds.max !== undefined) inner = inner.max(bounds.max);
  return z.preprocess(toInteger, inner);
}

export function laxNumber(inner: z.ZodNumber) {
  return z.preprocess(toNumber, inner);
}
