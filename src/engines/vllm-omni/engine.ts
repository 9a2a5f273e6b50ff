import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { encodeWav } from '../../audio/wav.ts';
import type { Config } from '../../config.ts';
import {
  CancelledError,
  EngineFailedError,
  EngineUnavailableError,
  InvalidInputError,
  ModelNotAvailableError,
  ServerError,
} from '../../errors.ts';
import type { SpeechStreamPart } from '../interfaces/speech-stream-parts.ts';
import {
  LANGUAGES,
  MODEL_KEYS,
  type EngineCapabilities,
  type EngineHealth,
  type Language,
  type ModelKey,
  type ModelStatus,
  type SpeechRequest,
  type TtsEngine,
  type VoicePrompt,
  type VoicePromptRequest,
} from '../interfaces/tts-engine.ts';
import { Pcm16Decoder } from './pcm-decoder.ts';
import { errorForStatus, remoteErrorMessage, unreachable } from '../remote-errors.ts';

const ENGINE = 'vLLM-Omni';

export interface VllmOmniOptions {
  fetch?: typeof fetch;
  logger?: Logger;
  /** Longest wait for the first bytes of an answer. */
  headersTimeoutMs?: number;
  /** Longest silence between two audio chunks before the stream counts as dead. */
  idleTimeoutMs?: number;
  /** Attempts for a request that failed before any audio arrived (connection refused, 502/503/504). */
  maxAttempts?: number;
}

/** What a voice prompt holds for vLLM-Omni: an uploaded voice's name, or the audio to send inline. */
interface RemoteVoice {
  voiceName?: string;
  referenceDataUrl: string;
  referenceText: string;
}

/** Maps a served model name (Qwen/Qwen3-TTS-12Hz-1.7B-Base) to our key. */
export function modelKeyOfServedModel(id: string): ModelKey | undefined {
  if (!/base/i.test(id)) return undefined;
  if (/0\.6b/i.test(id)) return 'base_0.6b';
  if (/1\.7b/i.test(id)) return 'base_1.7b';
  return undefined;
}

/**
 * Speech through a vLLM-Omni server (continuous batching across GPUs). Requests map to its
 * OpenAI-style POST /v1/audio/speech (task_type Base, raw PCM streaming), voices are uploaded once
 * through POST /v1/audio/voices, and its failures become ours: overload → 503 + Retry-After.
 */
export class VllmOmniEngine implements TtsEngine {
  readonly name = 'vllm-omni';
  readonly capabilities: EngineCapabilities = { voiceCloning: true, streaming: true, sampleRate: 24000 };
  readonly languages: readonly Language[] = LANGUAGES;
  private served: { id: string; key: ModelKey | undefined } | undefined;
  private readonly uploadedVoices = new Map<string, Promise<string | undefined>>();
  private readonly fetch: typeof fetch;
  private warnedAboutSampling = false;

  private constructor(
    private readonly config: Config,
    private readonly options: VllmOmniOptions,
  ) {
    this.fetch = options.fetch ?? fetch;
  }

  /** Checks the server at startup; a server that is down is logged, not fatal (requests then get 503). */
  static async connect(config: Config, options: VllmOmniOptions = {}): Promise<VllmOmniEngine> {
    const engine = new VllmOmniEngine(config, options);
    try {
      await engine.models();
      options.logger?.info(`vLLM-Omni at ${config.VLLM_OMNI_URL} serves ${engine.served?.id}`);
    } catch (error) {
      options.logger?.warn(
        `${error instanceof Error ? error.message : String(error)}: speech requests answer 503 until it is up. ` +
          'Start it with `vllm serve Qwen/Qwen3-TTS-12Hz-1.7B-Base --omni --port 8091 …` or fix VLLM_OMNI_URL.',
      );
    }
    return engine;
  }

  private get url(): string {
    return this.config.VLLM_OMNI_URL;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.config.VLLM_OMNI_API_KEY
      ? { authorization: `Bearer ${this.config.VLLM_OMNI_API_KEY}`, ...extra }
      : extra;
  }

  private async call(path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
    const timeout = AbortSignal.timeout(init.timeoutMs ?? 10000);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await this.fetch(`${this.url}${path}`, {
        ...init,
        signal,
        headers: this.headers(init.headers as Record<string, string>),
      });
    } catch (error) {
      if (init.signal?.aborted) throw new CancelledError();
      if (timeout.aborted)
        throw new EngineUnavailableError(`${ENGINE} at ${this.url} did not answer ${path} in time`);
      throw unreachable(ENGINE, this.url, error);
    }
  }

  async models(): Promise<ModelStatus[]> {
    const response = await this.call('/v1/models', { timeoutMs: 5000 });
    const text = await response.text();
    if (!response.ok)
      throw errorForStatus(ENGINE, response.status, text, response.headers.get('retry-after'));
    let ids: string[];
    try {
      ids = (JSON.parse(text) as { data: { id: string }[] }).data.map((model) => model.id);
    } catch {
      throw new EngineFailedError(`${ENGINE} answered /v1/models with something that is not a model list`, {
        statusCode: 502,
      });
    }
    const id = this.config.VLLM_OMNI_MODEL || ids[0];
    if (!id) throw new EngineFailedError(`${ENGINE} serves no model`, { statusCode: 502 });
    this.served = { id, key: modelKeyOfServedModel(id) };
    return MODEL_KEYS.map((key) => ({
      key,
      installed: this.served?.key === key,
      loaded: this.served?.key === key,
      location: `${this.url} (${id})`,
    }));
  }

  async loadModel(key: ModelKey): Promise<void> {
    await this.models();
    if (this.served?.key !== key) {
      throw new ModelNotAvailableError(
        `${ENGINE} at ${this.url} serves ${this.served?.id}, not ${key}: ask for model_size=${this.served?.key === 'base_1.7b' ? '1.7b' : '0.6b'}, ` +
          'or start vLLM-Omni with the other Base model.',
      );
    }
  }

  loadedModels(): ModelKey[] {
    return this.served?.key ? [this.served.key] : [];
  }

  async health(): Promise<EngineHealth> {
    try {
      const response = await this.call('/health', { timeoutMs: 3000 });
      await response.arrayBuffer();
      return response.ok
        ? { ok: true }
        : { ok: false, message: `${ENGINE} at ${this.url} answered /health with ${response.status}` };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  }

  async prepareVoice(request: VoicePromptRequest, signal: AbortSignal): Promise<VoicePrompt> {
    const referenceText = request.xVectorOnly ? '' : request.referenceText;
    const bytes =
      request.reference.original?.bytes ?? encodeWav(request.reference.samples, request.reference.sampleRate);
    const mediaType = request.reference.original?.mediaType ?? 'audio/wav';
    const id = createHash('sha256').update(`${request.reference.hash}\u0000${referenceText}`).digest('hex');
    let upload = this.uploadedVoices.get(id);
    if (!upload) {
      upload = this.uploadVoice(`vc-${id.slice(0, 20)}`, bytes, mediaType, referenceText, signal);
      this.uploadedVoices.set(id, upload);
    }
    const voiceName = await upload;
    const data: RemoteVoice = {
      voiceName,
      referenceDataUrl: `data:${mediaType};base64,${bytes.toString('base64')}`,
      referenceText,
    };
    return { id, model: request.model, xVectorOnly: request.xVectorOnly, data };
  }

  /** Uploads once; when the server has no voice store (or refuses), requests carry the audio inline. */
  private async uploadVoice(
    name: string,
    bytes: Buffer,
    mediaType: string,
    referenceText: string,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const form = new FormData();
    form.append(
      'audio_sample',
      new Blob([bytes], { type: mediaType }),
      `${name}.${mediaType.split('/')[1] ?? 'wav'}`,
    );
    form.append('name', name);
    // vLLM-Omni asks for a consent record id; this server does not collect consent itself (see docs).
    form.append('consent', 'collected-by-client');
    if (referenceText) form.append('ref_text', referenceText);
    try {
      const response = await this.call('/v1/audio/voices', {
        method: 'POST',
        body: form,
        signal,
        timeoutMs: 30000,
      });
      const text = await response.text();
      if (response.ok || /already exists/i.test(text)) return name;
      this.options.logger?.warn(
        `${ENGINE} did not store the voice (HTTP ${response.status}: ${remoteErrorMessage(text)}); sending it with each request instead`,
      );
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      this.options.logger?.warn(
        `${ENGINE} voice upload failed (${(error as Error).message}); sending the voice with each request instead`,
      );
    }
    return undefined;
  }

  async *generate(request: SpeechRequest, signal: AbortSignal): AsyncGenerator<SpeechStreamPart> {
    const voice = request.voice.data as RemoteVoice;
    const { sampling } = request;
    const unsupported = [
      sampling.temperature,
      sampling.topK,
      sampling.topP,
      sampling.repetitionPenalty,
      sampling.doSample,
      sampling.subtalker,
    ];
    if (!this.warnedAboutSampling && unsupported.some((value) => value !== undefined)) {
      this.warnedAboutSampling = true;
      this.options.logger?.warn(
        `${ENGINE} takes seed and max_new_tokens per request; temperature, top_k, top_p, repetition_penalty, do_sample and the subtalker settings are set on the vLLM-Omni server`,
      );
    }
    const body = {
      input: request.text,
      ...(this.served?.id ? { model: this.served.id } : {}),
      task_type: 'Base',
      language: request.language,
      ...(voice.voiceName
        ? { voice: voice.voiceName }
        : {
            ref_audio: voice.referenceDataUrl,
            ...(voice.referenceText ? { ref_text: voice.referenceText } : {}),
          }),
      x_vector_only_mode: request.voice.xVectorOnly,
      ...(sampling.maxNewTokens === undefined ? {} : { max_new_tokens: sampling.maxNewTokens }),
      seed: sampling.seed,
      response_format: 'pcm',
      stream: true,
      stream_format: 'audio',
    };
    let response: Response;
    try {
      response = await this.openStream(body, signal);
    } catch (error) {
      // A server restarted (or another replica behind a load balancer) may not know the uploaded voice:
      // forget it and send the reference inline once.
      if (!voice.voiceName || !(error instanceof InvalidInputError) || !/voice/i.test(error.message))
        throw error;
      this.uploadedVoices.delete(request.voice.id);
      this.options.logger?.warn(
        `${ENGINE} does not know voice ${voice.voiceName}; sending the reference inline`,
      );
      const { voice: _unknown, ...inline } = body as Record<string, unknown>;
      void _unknown;
      response = await this.openStream(
        {
          ...inline,
          ref_audio: voice.referenceDataUrl,
          ...(voice.referenceText ? { ref_text: voice.referenceText } : {}),
        },
        signal,
      );
    }
    yield { type: 'audio-start', sampleRate: 24000 };
    const decoder = new Pcm16Decoder();
    const reader = response.body!.getReader();
    const idleMs = this.options.idleTimeoutMs ?? 30000;
    let samples = 0;
    try {
      for (;;) {
        const { value, done } = await readWithTimeout(reader, idleMs, signal);
        if (done) break;
        const part = decoder.push(value);
        samples += part.length;
        if (part.length > 0) yield { type: 'audio-delta', samples: part };
      }
    } catch (error) {
      if (signal.aborted) throw new CancelledError();
      if (error instanceof ServerError) throw error;
      throw new EngineFailedError(
        `${ENGINE} stopped in the middle of the audio stream (${(error as Error).message})`,
        { statusCode: 502, cause: error },
      );
    } finally {
      reader.cancel().catch(() => {});
    }
    if (samples === 0) throw new EngineFailedError(`${ENGINE} returned no audio`, { statusCode: 502 });
    yield { type: 'audio-end', finishReason: 'end-of-speech', frames: Math.round(samples / 1920) };
  }

  /** POSTs the request, retrying only failures that happened before any audio (nothing was lost). */
  private async openStream(body: unknown, signal: AbortSignal): Promise<Response> {
    const attempts = this.options.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt += 1) {
      let error: ServerError;
      try {
        const response = await this.call('/v1/audio/speech', {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
          signal,
          timeoutMs: this.options.headersTimeoutMs ?? 60000,
        });
        if (response.ok) {
          const type = response.headers.get('content-type') ?? '';
          if (!response.body || /json|html|text\//.test(type)) {
            const text = await response.text();
            throw new EngineFailedError(
              `${ENGINE} answered with ${type || 'no content type'} instead of audio: ${text.slice(0, 200)}`,
              { statusCode: 502 },
            );
          }
          return response;
        }
        error = errorForStatus(
          ENGINE,
          response.status,
          await response.text(),
          response.headers.get('retry-after'),
        );
      } catch (caught) {
        if (!(caught instanceof ServerError) || caught instanceof CancelledError) throw caught;
        error = caught;
      }
      // Only a server that could not be reached (or a gateway error) is retried: overload (429/503) goes
      // back to the client with its Retry-After, since hammering an overloaded server makes it worse.
      if (!(error instanceof EngineUnavailableError) || attempt >= attempts || signal.aborted) throw error;
      await sleep(250 * 3 ** (attempt - 1), undefined, { signal }).catch(() => {
        throw new CancelledError();
      });
    }
  }

  async close(): Promise<void> {}
}

async function readWithTimeout(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      reader.read(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () =>
            reject(new EngineFailedError(`${ENGINE} sent no audio for ${timeoutMs} ms`, { statusCode: 502 })),
          timeoutMs,
        );
        onAbort = () => reject(new CancelledError());
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
