import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import { CancelledError, EngineFailedError, ServerError } from '../../errors.ts';
import type { LipsyncEngine, RenderRequest, RenderStreamPart } from '../spec/lipsync-engine.ts';
import type { EngineHealth } from '../spec/tts-engine.ts';
import { errorForStatus, unreachable } from '../remote-errors.ts';

const ENGINE = 'NewAvata';
const MAX_VIDEO_BYTES = 512 * 1024 * 1024;

export interface NewAvataOptions {
  fetch?: typeof fetch;
  logger?: Logger;
  /** Longest silence between two progress events of a render. */
  idleTimeoutMs?: number;
}

type NewAvataEvent =
  | { type: 'status'; stage?: string; message?: string }
  | { type: 'done'; video_url: string; elapsed?: unknown }
  | { type: 'error'; message?: string };

/**
 * Video through a NewAvata server (mindvridge/NewAvata, realtime-interview-avatar/app.py). NewAvata
 * takes text and does its own TTS (calling this server's /tts/voice_clone back when its tts_engine is
 * qwen3tts), renders one of its prepared avatars, and serves the MP4 at video_url.
 */
export class NewAvataEngine implements LipsyncEngine {
  readonly name = 'newavata';
  readonly drivenBy = 'text' as const;
  private readonly fetch: typeof fetch;

  private constructor(
    private readonly config: Config,
    private readonly options: NewAvataOptions,
  ) {
    this.fetch = options.fetch ?? fetch;
  }

  static async connect(config: Config, options: NewAvataOptions = {}): Promise<NewAvataEngine> {
    const engine = new NewAvataEngine(config, options);
    const health = await engine.health();
    if (health.ok) options.logger?.info(`NewAvata at ${config.NEWAVATA_API_URL} is ready`);
    else
      options.logger?.warn(
        `${health.message}: /video/generate answers 503 until it is up (start it with \`python app.py\` in NewAvata/realtime-interview-avatar)`,
      );
    return engine;
  }

  private get url(): string {
    return this.config.NEWAVATA_API_URL;
  }

  private async call(path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
    const timeout = AbortSignal.timeout(init.timeoutMs ?? 10000);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const target = /^https?:\/\//.test(path) ? path : `${this.url}${path}`;
    try {
      return await this.fetch(target, { ...init, signal });
    } catch (error) {
      if (init.signal?.aborted) throw new CancelledError();
      throw unreachable(ENGINE, this.url, error);
    }
  }

  private async json<T>(path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<T> {
    const response = await this.call(path, init);
    const text = await response.text();
    if (!response.ok)
      throw errorForStatus(ENGINE, response.status, text, response.headers.get('retry-after'));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new EngineFailedError(
        `${ENGINE} answered ${path} with something that is not JSON: ${text.slice(0, 120)}`,
        { statusCode: 502 },
      );
    }
  }

  async health(): Promise<EngineHealth> {
    try {
      const status = await this.json<{ status?: string; models_loaded?: boolean }>('/api/v2/status', {
        timeoutMs: 3000,
      });
      if (status.status === 'ok' && status.models_loaded !== false) return { ok: true };
      return {
        ok: false,
        message: `${ENGINE} at ${this.url} is up but not ready (models_loaded: ${String(status.models_loaded)})`,
      };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  }

  /** NewAvata's avatars (prepared videos), by id. Its list is a bare array or {"avatars": [...]}. */
  async listAvatars(): Promise<string[]> {
    const body = await this.json<unknown>('/api/avatars');
    const entries = Array.isArray(body) ? body : (body as { avatars?: unknown[] }).avatars;
    if (!Array.isArray(entries))
      throw new EngineFailedError(`${ENGINE} answered /api/avatars without a list`, { statusCode: 502 });
    return entries
      .map((entry) => (typeof entry === 'string' ? entry : (entry as { id?: string }).id))
      .filter((id): id is string => typeof id === 'string')
      .sort();
  }

  async *render(request: RenderRequest, signal: AbortSignal): AsyncGenerator<RenderStreamPart> {
    const notices: string[] = [];
    let avatar = 'auto';
    if (request.avatar.kind === 'named') avatar = request.avatar.name;
    else
      notices.push(
        `avatar_image was not used: ${ENGINE} renders only its prepared avatars, so "auto" was used (name one in the avatar field; see /video/avatars)`,
      );
    const body = {
      text: request.text,
      avatar,
      tts_engine: 'qwen3tts',
      tts_voice: request.model === 'base_1.7b' ? 'clone_1.7b' : 'clone_0.6b',
      persist: false,
    };
    const startedAt = performance.now();
    let videoUrl: string | undefined;
    let ttsMs: number | undefined;
    const response = await this.call('/api/v2/lipsync/stream', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      signal,
      timeoutMs: this.config.REQUEST_TIMEOUT_MS,
    });
    if (response.status === 404) {
      // Older NewAvata builds have only the blocking endpoint.
      await response.arrayBuffer();
      yield { type: 'render-progress', stage: 'lipsync' };
      const result = await this.json<{ success?: boolean; video_url?: string; error?: string }>(
        '/api/v2/lipsync',
        {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
          signal,
          timeoutMs: this.config.REQUEST_TIMEOUT_MS,
        },
      );
      if (!result.success || !result.video_url)
        throw new EngineFailedError(`${ENGINE} failed: ${result.error ?? 'no video_url'}`, {
          statusCode: 502,
        });
      videoUrl = result.video_url;
    } else {
      if (!response.ok)
        throw errorForStatus(
          ENGINE,
          response.status,
          await response.text(),
          response.headers.get('retry-after'),
        );
      for await (const event of this.events(response, signal)) {
        if (event.type === 'status') {
          if (event.stage === 'tts_done') ttsMs = performance.now() - startedAt;
          yield { type: 'render-progress', stage: event.stage ?? 'working' };
        } else if (event.type === 'error') {
          throw new EngineFailedError(`${ENGINE} failed: ${event.message ?? 'no message'}`, {
            statusCode: 502,
          });
        } else if (event.type === 'done') {
          videoUrl = event.video_url;
          break;
        }
      }
      if (!videoUrl)
        throw new EngineFailedError(`${ENGINE} ended its stream without a video`, { statusCode: 502 });
    }
    yield { type: 'render-progress', stage: 'download' };
    const mp4 = await this.download(videoUrl, signal);
    yield {
      type: 'render-end',
      mp4,
      avatarUsed: avatar,
      notices,
      timings: { ...(ttsMs !== undefined ? { tts: ttsMs } : {}), total: performance.now() - startedAt },
    };
  }

  /** Reads NewAvata's `data: {json}` lines; a line that is not JSON is a broken server, not ours. */
  private async *events(response: Response, signal: AbortSignal): AsyncGenerator<NewAvataEvent> {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const idleMs = this.options.idleTimeoutMs ?? 300000;
    let buffer = '';
    try {
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const next = await Promise.race([
          reader.read(),
          new Promise<never>((_resolve, reject) => {
            timer = setTimeout(
              () =>
                reject(new EngineFailedError(`${ENGINE} sent nothing for ${idleMs} ms`, { statusCode: 502 })),
              idleMs,
            );
          }),
        ]).finally(() => clearTimeout(timer));
        if (next.done) return;
        buffer += decoder.decode(next.value, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (!line.startsWith('data:')) continue;
          try {
            yield JSON.parse(line.slice(5).trim()) as NewAvataEvent;
          } catch {
            throw new EngineFailedError(`${ENGINE} sent an event that is not JSON: ${line.slice(0, 120)}`, {
              statusCode: 502,
            });
          }
        }
      }
    } catch (error) {
      if (signal.aborted) throw new CancelledError();
      if (error instanceof ServerError) throw error;
      throw new EngineFailedError(
        `${ENGINE} stopped in the middle of its event stream (${(error as Error).message})`,
        { statusCode: 502, cause: error },
      );
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  private async download(videoUrl: string, signal: AbortSignal): Promise<Buffer> {
    const target = new URL(videoUrl, `${this.url}/`).toString();
    const response = await this.call(target, { signal, timeoutMs: 120000 });
    if (!response.ok) throw errorForStatus(ENGINE, response.status, await response.text(), null);
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > MAX_VIDEO_BYTES)
      throw new EngineFailedError(
        `${ENGINE}'s video is ${declared} bytes, over the ${MAX_VIDEO_BYTES} limit`,
        { statusCode: 502 },
      );
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > MAX_VIDEO_BYTES)
        throw new EngineFailedError(`${ENGINE}'s video is over the ${MAX_VIDEO_BYTES}-byte limit`, {
          statusCode: 502,
        });
      chunks.push(Buffer.from(chunk));
    }
    const mp4 = Buffer.concat(chunks);
    if (mp4.length < 12 || mp4.toString('latin1', 4, 8) !== 'ftyp') {
      throw new EngineFailedError(`${ENGINE} served ${videoUrl} but it is not an MP4`, { statusCode: 502 });
    }
    return mp4;
  }

  async close(): Promise<void> {}
}
