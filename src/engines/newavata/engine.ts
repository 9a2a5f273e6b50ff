import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import {
  CancelledError,
  EngineFailedError,
  EngineUnavailableError,
  InvalidInputError,
  ServerError,
} from '../../errors.ts';
import type {
  AvatarSource,
  LipsyncEngine,
  RenderRequest,
  RenderStreamPart,
  SpeechCallback,
} from '../interfaces/lipsync-engine.ts';
import type { EngineHealth } from '../interfaces/tts-engine.ts';
import { errorForStatus, remoteErrorMessage, unreachable } from '../remote-errors.ts';

const ENGINE = 'NewAvata';
const MAX_VIDEO_BYTES = 512 * 1024 * 1024;
/** How long NewAvata's avatar list is trusted when checking a request's avatar. */
const AVATAR_LIST_TTL_MS = 10000;

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
 * NewAvata's avatars are videos, but it turns them into avatars only offline, on its own machine (its
 * precompute script writes a file that /api/avatars then lists); its API takes an avatar by name and has
 * no way to receive a video. So an uploaded one is refused rather than silently replaced.
 */
function videoAvatarRefusal(): InvalidInputError {
  return new InvalidInputError(
    `avatar_video cannot be used with ${ENGINE} (USE_NEWAVATA_API=true): ${ENGINE} renders only the avatars ` +
      `prepared on its own machine and has no API to receive a video. Prepare the video there and name it ` +
      `in the avatar field (see /video/avatars), or render with the embedded lip-sync engine (USE_NEWAVATA_API=false).`,
    { statusCode: 422, code: 'video_avatar_not_supported' },
  );
}

/**
 * Video through a NewAvata server (mindvridge/NewAvata, realtime-interview-avatar/app.py). NewAvata
 * takes text and does its own TTS (calling this server's /tts/voice_clone back when its tts_engine is
 * qwen3tts), renders one of its prepared avatars, and serves the MP4 at video_url.
 */
export class NewAvataEngine implements LipsyncEngine {
  readonly name = 'newavata';
  readonly drivenBy = 'text' as const;
  /**
   * NewAvata's lip-sync path calls /tts/voice_clone with its own QWEN3_TTS_REF_AUDIO, always as
   * Korean, and without a seed or x_vector_only_mode (realtime-interview-avatar/app.py).
   */
  readonly speechCallback: SpeechCallback;
  private readonly fetch: typeof fetch;
  private avatarList: { names: string[]; at: number } | undefined;

  private constructor(
    private readonly config: Config,
    private readonly options: NewAvataOptions,
  ) {
    this.fetch = options.fetch ?? fetch;
    this.speechCallback = {
      label: ENGINE,
      referenceAudio: config.NEWAVATA_REF_AUDIO,
      languages: ['Korean'],
      ignores: ['seed', 'x_vector_only_mode', 'ref_audio', 'ref_text'],
    };
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
    const timeoutMs = init.timeoutMs ?? 10000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const target = /^https?:\/\//.test(path) ? path : `${this.url}${path}`;
    try {
      return await this.fetch(target, { ...init, signal });
    } catch (error) {
      if (init.signal?.aborted) throw new CancelledError();
      if (timeout.aborted)
        throw new EngineUnavailableError(`${ENGINE} did not answer ${path} within ${timeoutMs} ms`, {
          cause: error,
        });
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

  /**
   * NewAvata renders only its prepared avatars: a named one wins over an uploaded photo, and without
   * a name it picks one itself ("auto").
   */
  private chooseAvatar(source: AvatarSource): { avatar: string; notices: string[] } {
    if (source.kind === 'named') return { avatar: source.name, notices: [] };
    if (source.kind === 'video') throw videoAvatarRefusal();
    if (source.name)
      return {
        avatar: source.name,
        notices: [
          `avatar_image was not used: ${ENGINE} renders only its prepared avatars, so the avatar you named (${source.name}) was used`,
        ],
      };
    return {
      avatar: 'auto',
      notices: [
        `avatar_image was not used: ${ENGINE} renders only its prepared avatars, so "auto" was used (name one in the avatar field; see /video/avatars)`,
      ],
    };
  }

  /** An uploaded video is refused when the request arrives, not after it waited for a render slot. */
  async checkAvatar(avatar: AvatarSource): Promise<void> {
    if (avatar.kind === 'video') throw videoAvatarRefusal();
  }

  /** A named avatar must be one NewAvata has, checked before it starts a render. */
  private async checkAvatarExists(avatar: string): Promise<void> {
    if (avatar === 'auto') return;
    if (!this.avatarList || performance.now() - this.avatarList.at > AVATAR_LIST_TTL_MS)
      this.avatarList = { names: await this.listAvatars(), at: performance.now() };
    if (!this.avatarList.names.includes(avatar)) {
      const error = this.unknownAvatar(avatar);
      // A fresh list next time, in case the avatar is being prepared right now.
      this.avatarList = undefined;
      throw error;
    }
  }

  private unknownAvatar(avatar: string, detail?: string): InvalidInputError {
    const known = this.avatarList?.names;
    const list = known?.length ? `: use one of ${known.join(', ')} or "auto"` : ' (see /video/avatars)';
    return new InvalidInputError(
      `avatar ${JSON.stringify(avatar)} is not one of ${ENGINE}'s avatars${detail ? ` (${detail})` : ''}${list}`,
      { statusCode: 404, code: 'avatar_not_found' },
    );
  }

  /**
   * NewAvata answers an unknown avatar with a JSON 404, and a route it lacks with Flask's HTML 404.
   * Returns undefined for the latter.
   */
  private async refusal(response: Response, avatar: string): Promise<ServerError | undefined> {
    const text = await response.text();
    const json = (response.headers.get('content-type') ?? '').includes('application/json');
    if (response.status === 404 && !json) return undefined;
    if (response.status === 404) return this.unknownAvatar(avatar, remoteErrorMessage(text));
    return errorForStatus(ENGINE, response.status, text, response.headers.get('retry-after'));
  }

  /**
   * NewAvata cannot be cancelled, so its request is not tied to the client: when the client leaves,
   * the render is still followed to its end (within REQUEST_TIMEOUT_MS) and only then is the
   * CancelledError thrown, which keeps the caller's queue slot taken while NewAvata works.
   */
  async *render(request: RenderRequest, signal: AbortSignal): AsyncGenerator<RenderStreamPart> {
    const { avatar, notices } = this.chooseAvatar(request.avatar);
    await this.checkAvatarExists(avatar);
    const init = {
      method: 'POST',
      body: JSON.stringify({
        text: request.text,
        avatar,
        tts_engine: 'qwen3tts',
        tts_voice: request.model === 'base_1.7b' ? 'clone_1.7b' : 'clone_0.6b',
        persist: false,
      }),
      headers: { 'content-type': 'application/json' },
      timeoutMs: this.config.REQUEST_TIMEOUT_MS,
    };
    const startedAt = performance.now();
    let videoUrl: string | undefined;
    let ttsMs: number | undefined;
    const response = await this.call('/api/v2/lipsync/stream', init);
    if (!response.ok) {
      const refused = await this.refusal(response, avatar);
      if (refused) throw refused;
      // Older NewAvata builds have only the blocking endpoint.
      yield { type: 'render-progress', stage: 'lipsync' };
      videoUrl = await this.renderBlocking(init, avatar);
    } else {
      const events = this.events(response);
      let finished = false;
      try {
        for (;;) {
          const next = await events.next();
          if (next.done) break;
          const event = next.value;
          if (event.type === 'error') {
            finished = true;
            throw new EngineFailedError(`${ENGINE} failed: ${event.message ?? 'no message'}`, {
              statusCode: 502,
            });
          }
          if (event.type === 'done') {
            finished = true;
            videoUrl = event.video_url;
            break;
          }
          if (event.stage === 'tts_done') ttsMs = performance.now() - startedAt;
          yield { type: 'render-progress', stage: event.stage ?? 'working' };
        }
        finished = true;
      } finally {
        if (!finished) await this.awaitEnd(events);
        await events.return(undefined);
      }
      if (!videoUrl)
        throw new EngineFailedError(`${ENGINE} ended its stream without a video`, { statusCode: 502 });
    }
    if (signal.aborted) throw new CancelledError();
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

  private async renderBlocking(init: RequestInit & { timeoutMs: number }, avatar: string): Promise<string> {
    const response = await this.call('/api/v2/lipsync', init);
    if (!response.ok) {
      const refused = await this.refusal(response, avatar);
      throw (
        refused ??
        new EngineFailedError(
          `${ENGINE} at ${this.url} has neither /api/v2/lipsync/stream nor /api/v2/lipsync`,
          {
            statusCode: 502,
          },
        )
      );
    }
    const text = await response.text();
    let result: { success?: boolean; video_url?: string; error?: string };
    try {
      result = JSON.parse(text) as typeof result;
    } catch {
      throw new EngineFailedError(`${ENGINE} answered /api/v2/lipsync with something that is not JSON`, {
        statusCode: 502,
      });
    }
    if (!result.success || !result.video_url)
      throw new EngineFailedError(`${ENGINE} failed: ${result.error ?? 'no video_url'}`, { statusCode: 502 });
    return result.video_url;
  }

  /** Follows a render whose client left until NewAvata ends it, so it is not counted as finished early. */
  private async awaitEnd(events: AsyncGenerator<NewAvataEvent>): Promise<void> {
    this.options.logger?.info(`the client left; waiting for ${ENGINE} to finish the render it cannot cancel`);
    try {
      for (;;) {
        const next = await events.next();
        if (next.done || next.value.type === 'done' || next.value.type === 'error') return;
      }
    } catch {
      // Its failure no longer matters to anyone: the wait is over.
    }
  }

  /** Reads NewAvata's `data: {json}` lines; a line that is not JSON is a broken server, not ours. */
  private async *events(response: Response): AsyncGenerator<NewAvataEvent> {
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
