import { z } from 'zod';

/**
 * A yes/no field of a multipart form (fields arrive as text): true/1/yes/on or false/0/no/off, any
 * case; left out, `defaultValue`; anything else is refused (422) rather than read as false.
 */
export const formBoolean = (defaultValue: boolean) =>
  z.preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      const lowered = value.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lowered)) return true;
      if (['false', '0', 'no', 'off'].includes(lowered)) return false;
      return value;
    },
    z.boolean({ error: () => 'must be true or false' }).default(defaultValue),
  );
