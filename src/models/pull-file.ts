import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError } from '../errors.ts';
import { HubTransferError, type HubClient } from './hub.ts';
import { ModelPullError } from './pull-errors.ts';

export interface PullFileOptions {
  client: HubClient;
  url: string;
  /** Final path; bytes arrive in `<destination>.part`, renamed into place once the sha256 matches. */
  destination: string;
  /** The expected digest: a sha256 (default), or a git blob id when `digest` says so. */
  sha256: string;
  digest?: 'sha256' | 'git-blob-sha1';
  /** From the hub's tree listing, when known: lets a finished `.part` skip the request. */
  expectedSize?: number;
  /** Network attempts per file; each one resumes where the last stopped. */
  attempts?: number;
  retryDelayMs?: number;
  /** Bytes of this file on disk so far (may go back to 0 when the server ignores Range). */
  onFileProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  /** For messages: the path inside the model directory. */
  displayName: string;
  /** For 404 messages: which variable names the repository. */
  notFoundHint: string;
}

const partPath = (destination: string) => `${destination}.part`;

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

export async function sha256OfFile(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, signal }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** git's blob id: sha1 of "blob <size>\0" followed by the content. */
export async function gitBlobSha1OfFile(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha1').update(`blob ${(await stat(file)).size}\0`);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, signal }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Parses `Content-Range: bytes START-END/TOTAL` and returns START. */
function contentRangeStart(header: string | null): number | undefined {
  const match = header?.match(/^bytes\s+(\d+)-\d+\/(\d+|\*)$/i);
  return match ? Number(match[1]) : undefined;
}

/**
 * Downloads one file resumably: an existing `.part` (from this run or an interrupted earlier one)
 * is continued with `Range: bytes=N-`; a dropped or stalled connection is retried from where it
 * stopped. The finished bytes must hash to `sha256`, else the part is deleted and the pull fails.
 */
export async function pullFile(options: PullFileOptions): Promise<void> {
  const attempts = options.attempts ?? 5;
  const part = partPath(options.destination);
  await mkdir(path.dirname(part), { recursive: true });
  let resumedFromEarlierBytes = false;
  let restartedAfterMismatch = false;

  for (let attempt = 1; ; attempt += 1) {
    if (options.signal?.aborted) throw new CancelledError('the model download was cancelled');
    let offset = await fileSize(part);
    if (options.expectedSize !== undefined && offset > options.expectedSize) offset = await truncate(part);
    options.onFileProgress?.(offset);
    const complete = options.expectedSize !== undefined && offset === options.expectedSize;

    if (!complete) {
      try {
        const finished = await transfer(options, part, offset);
        if (finished.resumed) resumedFromEarlierBytes = true;
      } catch (error) {
        if (error instanceof HubTransferError || (error instanceof ModelPullError && error.isRetryable)) {
          if (attempt < attempts) {
            await sleep(options.retryDelayMs ?? 1000 * attempt, undefined, { signal: options.signal }).catch(
              () => {
                throw new CancelledError('the model download was cancelled');
              },
            );
            continue;
          }
          throw new ModelPullError(
            `downloading ${options.displayName} failed ${attempts} times (${(error as Error).message}); ` +
              'run the same command again to resume from the bytes already on disk',
            'download_interrupted',
            { isRetryable: true, cause: error },
          );
        }
        throw error;
      }
    } else if (offset > 0) {
      resumedFromEarlierBytes = true;
    }

    const actual =
      options.digest === 'git-blob-sha1'
        ? await gitBlobSha1OfFile(part, options.signal)
        : await sha256OfFile(part, options.signal);
    if (actual === options.sha256) {
      await rename(part, options.destination);
      return;
    }
    await unlink(part).catch(() => undefined);
    // Bytes kept from an earlier attempt may be what is wrong: one clean download decides.
    if (resumedFromEarlierBytes && !restartedAfterMismatch) {
      restartedAfterMismatch = true;
      resumedFromEarlierBytes = false;
      continue;
    }
    throw new ModelPullError(
      `${options.displayName} from ${options.url} is corrupt: ${options.digest ?? 'sha256'} ${actual}, expected ${options.sha256}. ` +
        'The partial file was deleted. Re-upload the file or fix manifest.json in the repository, then pull again.',
      'checksum_mismatch',
    );
  }
}

async function truncate(part: string): Promise<number> {
  const handle = await open(part, 'w');
  await handle.close();
  return 0;
}

/** One HTTP request, appending to the part file. Returns whether it continued earlier bytes. */
async function transfer(
  options: PullFileOptions,
  part: string,
  offset: number,
): Promise<{ resumed: boolean }> {
  const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  const hubResponse = await options.client.get(options.url, headers);
  const { response } = hubResponse;
  let start = 0;
  if (response.status === 206) {
    start = contentRangeStart(response.headers.get('content-range')) ?? -1;
    if (start !== offset) {
      // A range we did not ask for: start over rather than guess.
      await hubResponse.discard();
      await truncate(part);
      throw new HubTransferError(`unexpected Content-Range for ${options.displayName}`);
    }
  } else if (response.status === 416 && offset > 0) {
    // The server has no bytes past what we hold: the part is complete (the hash will tell).
    await hubResponse.discard();
    return { resumed: true };
  } else if (!response.ok) {
    throw await options.client.failure(
      options.url,
      hubResponse,
      `cannot download ${options.displayName}`,
      options.notFoundHint,
    );
  }
  // 200 means the whole file from byte 0, whatever we asked for.
  const handle = await open(part, start === 0 ? 'w' : 'a');
  let written = start;
  try {
    for await (const chunk of hubResponse.chunks()) {
      await handle.write(chunk);
      written += chunk.byteLength;
      options.onFileProgress?.(written);
    }
  } finally {
    await handle.close();
  }
  return { resumed: start > 0 };
}
