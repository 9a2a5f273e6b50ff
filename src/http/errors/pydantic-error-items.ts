import type { ValidationDetail } from './request-validation-error.ts';
import { NOT_AN_INTEGER } from '../schemas/pydantic-lax.ts';

/** The parts of a zod issue that the type provider passes on (code, path, message and the rest). */
export interface SchemaIssue {
  code: string;
  path: (string | number)[];
  message: string;
  expected?: string;
  origin?: string;
  maximum?: number | bigint;
  minimum?: number | bigint;
  inclusive?: boolean;
  errors?: SchemaIssue[][];
}

/** Labels pydantic gives the members of `Union[str, List[str]]`, the only unions our bodies have. */
const UNION_MEMBER_LABELS = ['str', 'list[str]'];

/** zod's own messages say "expected int, received number"; ours (custom) say what to send. */
const ZOD_DEFAULT_MESSAGE = /^(Invalid input|Too big:|Too small:|Invalid option)/;

/**
 * One schema issue → FastAPI 422 items with pydantic's `type` names and, where the message is
 * zod's default, pydantic's wording: seed clients branch on `type` (`missing`, `bool_parsing`,
 * `less_than_equal` …) and show `msg`. `input` is what the client sent at that place, when short.
 */
export function pydanticItems(issue: SchemaIssue, location: string, body: unknown): ValidationDetail[] {
  return itemsAt(issue, [location, ...issue.path], valueAt(body, issue.path));
}

function itemsAt(issue: SchemaIssue, loc: (string | number)[], input: unknown): ValidationDetail[] {
  if (input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
    return [{ type: 'missing', loc, msg: 'Field required' }];
  }
  if (issue.code === 'invalid_union' && issue.errors) {
    // pydantic reports every member's failure, each under the member's label.
    return issue.errors.flatMap((memberIssues, index) =>
      memberIssues.flatMap((member) =>
        itemsAt(
          member,
          [...loc, UNION_MEMBER_LABELS[index] ?? `member${index}`, ...member.path],
          valueAt(input, member.path),
        ),
      ),
    );
  }
  const { type, msg } = describe(issue, input);
  const message = ZOD_DEFAULT_MESSAGE.test(issue.message) ? msg : issue.message;
  const item: ValidationDetail = { type, loc, msg: message };
  if (type !== 'missing' && isShort(input)) item.input = input;
  return [item];
}

function describe(issue: SchemaIssue, input: unknown): { type: string; msg: string } {
  switch (issue.code) {
    case 'invalid_type':
      return typeMismatch(issue.message === NOT_AN_INTEGER ? 'int' : (issue.expected ?? ''), input);
    case 'too_big':
      return bound(issue, 'big', input);
    case 'too_small':
      return bound(issue, 'small', input);
    case 'invalid_value':
      return { type: 'enum', msg: issue.message };
    case 'unrecognized_keys':
      return { type: 'extra_forbidden', msg: 'Extra inputs are not permitted' };
    default:
      return { type: 'value_error', msg: issue.message };
  }
}

function typeMismatch(expected: string, input: unknown): { type: string; msg: string } {
  if (input === undefined) return { type: 'missing', msg: 'Field required' };
  const isText = typeof input === 'string';
  switch (expected) {
    case 'boolean':
      return isText
        ? { type: 'bool_parsing', msg: 'Input should be a valid boolean, unable to interpret input' }
        : { type: 'bool_type', msg: 'Input should be a valid boolean' };
    case 'int':
      if (isText) {
        return {
          type: 'int_parsing',
          msg: 'Input should be a valid integer, unable to parse string as an integer',
        };
      }
      return typeof input === 'number'
        ? {
            type: 'int_from_float',
            msg: 'Input should be a valid integer, got a number with a fractional part',
          }
        : { type: 'int_type', msg: 'Input should be a valid integer' };
    case 'number':
      return isText
        ? { type: 'float_parsing', msg: 'Input should be a valid number, unable to parse string as a number' }
        : { type: 'float_type', msg: 'Input should be a valid number' };
    case 'string':
      return { type: 'string_type', msg: 'Input should be a valid string' };
    case 'array':
      return { type: 'list_type', msg: 'Input should be a valid list' };
    case 'object':
    case 'record':
      return { type: 'dict_type', msg: 'Input should be a valid dictionary' };
    default:
      return { type: `${expected}_type`, msg: `Input should be a valid ${expected}` };
  }
}

function bound(issue: SchemaIssue, side: 'big' | 'small', input: unknown): { type: string; msg: string } {
  const limit = String(side === 'big' ? issue.maximum : issue.minimum);
  if (issue.origin === 'string') {
    const unit = limit === '1' ? 'character' : 'characters';
    return side === 'big'
      ? { type: 'string_too_long', msg: `String should have at most ${limit} ${unit}` }
      : { type: 'string_too_short', msg: `String should have at least ${limit} ${unit}` };
  }
  if (issue.origin === 'array' || issue.origin === 'set') {
    const count = Array.isArray(input) ? input.length : '?';
    const unit = limit === '1' ? 'item' : 'items';
    return side === 'big'
      ? { type: 'too_long', msg: `List should have at most ${limit} ${unit} after validation, not ${count}` }
      : {
          type: 'too_short',
          msg: `List should have at least ${limit} ${unit} after validation, not ${count}`,
        };
  }
  if (side === 'big') {
    return issue.inclusive === false
      ? { type: 'less_than', msg: `Input should be less than ${limit}` }
      : { type: 'less_than_equal', msg: `Input should be less than or equal to ${limit}` };
  }
  return issue.inclusive === false
    ? { type: 'greater_than', msg: `Input should be greater than ${limit}` }
    : { type: 'greater_than_equal', msg: `Input should be greater than or equal to ${limit}` };
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** Inputs are echoed as FastAPI does, but never a long text or a base64 upload. */
function isShort(input: unknown): boolean {
  if (input === undefined) return false;
  if (typeof input === 'string') return input.length <= 200;
  if (input === null || typeof input !== 'object') return true;
  return JSON.stringify(input).length <= 200;
}
