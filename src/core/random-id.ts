/**
 * The ids this server gives what it keeps (randomUUID: jobs, videos, streams). Only a name made of one
 * ever reaches the file system or Redis, so no `..`, separator or foreign file can be named.
 */
export const RANDOM_ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Whether `value` is exactly one id. */
export function isRandomId(value: string): boolean {
  return WHOLE_ID.test(value);
}

const WHOLE_ID = new RegExp(`^${RANDOM_ID}$`);
