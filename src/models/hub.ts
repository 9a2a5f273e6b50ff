import { CancelledError } from '../errors.ts';
import { ModelPullError } from './pull-errors.ts';

/**
 * A small client for the Hugging Face hub's file API (also served by mirrors that set HF_ENDPOINT):
 * `GET {endpoint}/{repo}/resolve/{revision}/{file}` for content (Range supported; the hub may
 * redirect to a CDN) and `GET {endpoint}/api/models/{repo}/tree/{revision}?recursive=true` for
 * file sizes. Every request waits at most `connectTimeoutMs` for response headers, so a hub that
 * cannot be reached fails fast, and a body that stops arriving for `stallTimeoutMs` is dropped.
 */
export interface HubClientOptions {
  endpoint: string;
  /** Sent as `Authorization: Bearer …` when set. fetch drops it on cross-origin redirects (CDN). */
  token?: string;
  fetch?: typeof globalThis.fetch;
  connectTimeoutMs?: number;
  stallTimeoutMs?: number;
  signal?: AbortSignal;
  /** Appended to "cannot reach" messages: which variables to set. */
  unreachableHint?: string;
}

export interface HubResponse {
  response: Response;
  /** Reads the body chunk by chunk, aborting when no bytes arrive within the stall timeout. */
  chunks(): AsyncIterable<Uint8Array>;
  /** Drops the body unread and releases the request (for error statuses and small JSON reads). */
  discard(): Promise<void>;
}

/** The connection dropped or stalled after headers: worth resuming with a Range request. */
export class HubTransferError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'HubTransferError';
  }
}

const encodePath = (file: string) => file.split('/').map(encodeURIComponent).join('/');

export class HubClient {
  readonly endpoint: string;
  private readonly token: string | undefined;
  private readonly fetchImplementation: typeof globalThis.fetch;
  private readonly connectTimeoutMs: number;
  private readonly stallTimeoutMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly unreachableHint: string;

  constructor(options: HubClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.token = options.token || undefined;
    this.fetchImplementation = options.fetch ?? globalThis.fetch;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
    this.signal = options.signal;
    this.unreachableHint = options.unreachableHint ?? '';
  }

  resolveUrl(repository: string, revision: string, file: string): string {
    return `${this.endpoint}/${repository}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
  }

  treeUrl(repository: string, revision: string): string {
    return `${this.endpoint}/api/models/${repository}/tree/${encodeURIComponent(revision)}?recursive=true`;
  }

  /** GET with the token, a header deadline and the caller's abort signal. */
  async get(url: string, headers: Record<string, string> = {}): Promise<HubResponse> {
    if (this.signal?.aborted) throw new CancelledError('the model download was cancelled');
    const controller = new AbortController();
    const onAbort = () => controller.abort(this.signal?.reason);
    this.signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const headerTimer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.connectTimeoutMs);
    const release = () => {
      clearTimeout(headerTimer);
      this.signal?.removeEventListener('abort', onAbort);
    };
    const requestHeaders: Record<string, string> = { ...headers };
    if (this.token) requestHeaders.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await this.fetchImplementation(url, { headers: requestHeaders, signal: controller.signal });
    } catch (error) {
      release();
      if (this.signal?.aborted) throw new CancelledError('the model download was cancelled');
      const reason = timedOut ? `no answer within ${this.connectTimeoutMs} ms` : describeNetworkError(error);
      throw new ModelPullError(
        `cannot reach the model hub at ${this.endpoint} (${reason})${this.unreachableHint}`,
        'hub_unreachable',
        { isRetryable: true, cause: error },
      );
    }
    clearTimeout(headerTimer);
    const stallTimeoutMs = this.stallTimeoutMs;
    const signal = this.signal;
    return {
      response,
      async discard() {
        release();
        await response.body?.cancel().catch(() => undefined);
      },
      async *chunks() {
        const body = response.body;
        if (body === null) {
          release();
          return;
        }
        let stalled = false;
        let stallTimer = setTimeout(() => {
          stalled = true;
          controller.abort();
        }, stallTimeoutMs);
        try {
          for await (const chunk of body as AsyncIterable<Uint8Array>) {
            clearTimeout(stallTimer);
            stallTimer = setTimeout(() => {
              stalled = true;
              controller.abort();
            }, stallTimeoutMs);
            yield chunk;
          }
        } catch (error) {
          if (signal?.aborted) throw new CancelledError('the model download was cancelled');
          const reason = stalled ? `no data for ${stallTimeoutMs} ms` : describeNetworkError(error);
          throw new HubTransferError(`the download from ${url} broke off (${reason})`, { cause: error });
        } finally {
          clearTimeout(stallTimer);
          release();
          // A consumer that stops early must not leave the socket open.
          if (!controller.signal.aborted) controller.abort();
        }
      },
    };
  }

  /** An HTTP error status as a clear failure (the body is discarded). */
  async failure(url: string, hubResponse: HubResponse, what: string, hint: string): Promise<ModelPullError> {
    const { status, statusText } = hubResponse.response;
    await hubResponse.discard();
    const advice =
      status === 401 || status === 403
        ? ' The repository may be private or gated: set HF_TOKEN to a token that can read it.'
        : status === 404
          ? ` ${hint}`
          : '';
    return new ModelPullError(
      `${what}: ${url} answered ${status} ${statusText}.${advice}`,
      'hub_http_error',
      {
        isRetryable: status >= 500 || status === 429,
      },
    );
  }

  /**
   * Every file of a repository with what checks it: the sha256 the hub lists for LFS files, else the
   * git blob id (sha1 of "blob <size>\0" + content). Fails clearly when the tree cannot be read.
   */
  async listFiles(repository: string, revision: string, hint: string): Promise<HubFile[]> {
    const files: HubFile[] = [];
    let url: string | undefined = this.treeUrl(repository, revision);
    while (url !== undefined) {
      const hubResponse: HubResponse = await this.get(url, { accept: 'application/json' });
      if (!hubResponse.response.ok)
        throw await this.failure(url, hubResponse, `cannot list the files of ${repository}`, hint);
      const text = await readText(hubResponse);
      let entries: unknown;
      try {
        entries = JSON.parse(text);
      } catch {
        entries = undefined;
      }
      if (!Array.isArray(entries))
        throw new ModelPullError(
          `${url} did not answer a file list: is HF_ENDPOINT a model hub?`,
          'hub_http_error',
        );
      for (const entry of entries as TreeEntry[]) {
        if (entry.type !== 'file' || typeof entry.path !== 'string' || typeof entry.size !== 'number')
          continue;
        const sha256 = entry.lfs?.oid ?? entry.lfs?.sha256;
        files.push({
          path: entry.path,
          size: entry.lfs?.size ?? entry.size,
          sha256: typeof sha256 === 'string' ? sha256.replace(/^sha256:/, '') : undefined,
          gitBlobSha1: entry.lfs ? undefined : typeof entry.oid === 'string' ? entry.oid : undefined,
        });
      }
      url = nextPage(hubResponse.response.headers.get('link'), url);
    }
    return files;
  }

  /** The commit a branch or tag points at (for the record), or the revision itself when the hub does not say. */
  async commitOf(repository: string, revision: string): Promise<string> {
    if (/^[0-9a-f]{40}$/.test(revision)) return revision;
    const url = `${this.endpoint}/api/models/${repository}/revision/${encodeURIComponent(revision)}`;
    const hubResponse = await this.get(url, { accept: 'application/json' });
    if (!hubResponse.response.ok) {
      await hubResponse.discard();
      return revision;
    }
    try {
      const sha = (JSON.parse(await readText(hubResponse)) as { sha?: unknown }).sha;
      return typeof sha === 'string' ? sha : revision;
    } catch {
      return revision;
    }
  }

  /** Sizes of every file in the repository, or undefined when the hub has no tree API. */
  async fileSizes(repository: string, revision: string): Promise<Map<string, number> | undefined> {
    const sizes = new Map<string, number>();
    let url: string | undefined = this.treeUrl(repository, revision);
    while (url !== undefined) {
      const hubResponse: HubResponse = await this.get(url, { accept: 'application/json' });
      if (!hubResponse.response.ok) {
        await hubResponse.discard();
        return undefined;
      }
      const text = await readText(hubResponse);
      let entries: unknown;
      try {
        entries = JSON.parse(text);
      } catch {
        return undefined;
      }
      if (!Array.isArray(entries)) return undefined;
      for (const entry of entries as { type?: unknown; path?: unknown; size?: unknown }[]) {
        if (entry.type === 'file' && typeof entry.path === 'string' && typeof entry.size === 'number') {
          sizes.set(entry.path, entry.size);
        }
      }
      url = nextPage(hubResponse.response.headers.get('link'), url);
    }
    return sizes;
  }
}

export interface HubFile {
  path: string;
  size: number;
  /** LFS files: the content's sha256. */
  sha256?: string;
  /** Files kept in git: the blob id. */
  gitBlobSha1?: string;
}

interface TreeEntry {
  type?: unknown;
  path?: unknown;
  size?: unknown;
  oid?: unknown;
  lfs?: { oid?: unknown; sha256?: unknown; size?: number };
}

async function readText(hubResponse: HubResponse): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const chunk of hubResponse.chunks()) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

/** The hub paginates large trees with `Link: <…>; rel="next"`. */
function nextPage(link: string | null, current: string): string | undefined {
  const match = link?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
  return match ? new URL(match[1], current).toString() : undefined;
}

/** fetch hides the real reason (ECONNREFUSED, ENOTFOUND …) in `cause`. */
export function describeNetworkError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth += 1) {
    const code = (current as NodeJS.ErrnoException).code;
    parts.push(code ? `${code}: ${current.message}` : current.message);
    current = current.cause;
  }
  return parts.length > 0 ? parts.join(' ← ') : String(error);
}
