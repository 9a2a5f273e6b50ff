import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { InvalidInputError, ServerError } from '../../errors.ts';

export interface MultipartReading {
  /** What the form is ("the voice"), and how to send it: said with the 415 when it is not multipart. */
  what: string;
  howToSend: string;
  /** Which files to send, said with the 413 when there are more than `limits.files`. */
  whichFiles: string;
  /** Per-request limits over the multipart plugin's (fileSize in bytes, number of files). */
  limits?: { fileSize?: number; files?: number };
  /** Takes one file part: reads it into the form, or refuses it with an InvalidInputError. */
  onFile: (part: MultipartFile) => Promise<void>;
}

/**
 * Reads a multipart/form-data body: text fields are returned, file parts go to `onFile` as they
 * arrive. Every way the body can be wrong is a 4xx that says what to send: not multipart (415), too
 * many files (413), a body that cannot be parsed (400), and whatever `onFile` refuses.
 */
export async function readMultipartForm(
  request: FastifyRequest,
  reading: MultipartReading,
): Promise<Record<string, string>> {
  if (!request.isMultipart())
    throw new InvalidInputError(`send ${reading.what} as multipart/form-data: ${reading.howToSend}`, {
      statusCode: 415,
      code: 'not_multipart',
    });
  const fields: Record<string, string> = {};
  try {
    for await (const part of request.parts(reading.limits ? { limits: reading.limits } : undefined)) {
      if (part.type === 'file') await reading.onFile(part);
      else if (typeof part.value === 'string') fields[part.fieldname] = part.value;
    }
  } catch (error) {
    if (error instanceof ServerError) throw error;
    if ((error as { code?: string }).code === 'FST_FILES_LIMIT')
      throw new InvalidInputError(`too many files: ${reading.whichFiles}`, {
        statusCode: 413,
        code: 'too_many_files',
      });
    // Fastify's other multipart errors carry their own 4xx; a malformed body does not.
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status < 500) throw error;
    throw new InvalidInputError(
      `the multipart form could not be read (${(error as Error).message}): send it as curl -F does`,
      { code: 'bad_multipart' },
    );
  }
  return fields;
}
