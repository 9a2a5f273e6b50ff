import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, EngineFailedError, ModelNotAvailableError } from '../../src/errors.ts';
import type {
  EngineCapabilities,
  EngineHealth,
  Language,
  ModelKey,
  ModelStatus,
  SpeechRequest,
  SpeechStreamPart,
  TtsEngine,
  VoicePrompt,
  VoicePromptRequest,
} from '../../src/engines/interfaces/index.ts';
import { LANGUAGES } from '../../src/engines/interfaces/index.ts';

export interface FakeEngineOptions {
  installed?: ModelKey[];
  /** Milliseconds between streamed parts, so tests can observe streaming and cancellation. */
  partDelayMs?: number;
  /** Parts per sentence. */
  partsPerSentence?: number;
  /** Throw after this many parts of a request (to test mid-stream failures). */
  failAfterParts?: number;
  /** Models whose manifest says synthetic (random weights), as `models synth` writes them. */
  synthetic?: ModelKey[];
  /**
   * Awaited before each request (its index from 0) generates anything, so a test can hold later
   * sentences until it has seen what it waits for, instead of relying on timing.
   */
  beforeRequest?: (index: number) => Promise<void>;
}

/**
 * A test double of the engine interface (tests only; `npm start` never serves it). Its audio is a
 * deterministic function of text, seed and voice: a tone whose pitch depends on them, so tests can
 * check seeding and ordering without a model.
 */
export class FakeTtsEngine implements TtsEngine {
  readonly name = 'fake';
  readonly capabilities: EngineCapabilities = { voiceCloning: true, streaming: true, sampleRate: 24000 };
  readonly languages: readonly Language[] = LANGUAGES;
  readonly requests: SpeechRequest[] = [];
  readonly voiceRequests: VoicePromptRequest[] = [];
  cancelledRequests = 0;
  partsYielded = 0;
  private readonly loaded = new Set<ModelKey>();

  constructor(private readonly options: FakeEngineOptions = {}) {}

  async models(): Promise<ModelStatus[]> {
    const installed = this.options.installed ?? ['base_0.6b', 'base_1.7b'];
    return (['base_0.6b', 'base_1.7b'] as ModelKey[]).map((key) => ({
      key,
      installed: installed.includes(key),
      loaded: this.loaded.has(key),
      location: `/models/${key}`,
      ...(this.options.synthetic?.includes(key) ? { synthetic: true } : {}),
    }));
  }

  syntheticModels(): ModelKey[] {
    return [...this.loaded].filter((key) => this.options.synthetic?.includes(key));
  }

  async loadModel(key: ModelKey): Promise<void> {
    if (!(this.options.installed ?? ['base_0.6b', 'base_1.7b']).includes(key)) {
      throw new ModelNotAvailableError(
        `model ${key} is not installed: run \`npm run cli -- models pull ${key}\``,
      );
    }
    this.loaded.add(key);
  }

  loadedModels(): ModelKey[] {
    return [...this.loaded];
  }

  /** Stands for the files a real engine fingerprints; tests change it to "replace the model". */
  weights = 'fake weights 1';

  modelIdentity(key: ModelKey): string | undefined {
    return this.loaded.has(key) ? `${key}/${this.weights}` : undefined;
  }

  async health(): Promise<EngineHealth> {
    return { ok: true };
  }

  async prepareVoice(request: VoicePromptRequest): Promise<VoicePrompt> {
    this.voiceRequests.push(request);
    return {
      id: `${request.reference.hash}:${request.xVectorOnly ? '' : request.referenceText}`,
      model: request.model,
      xVectorOnly: request.xVectorOnly,
      data: { pitch: 100 + (parseInt(request.reference.hash.slice(0, 4), 16) % 200) },
    };
  }

  async *generate(request: SpeechRequest, signal: AbortSignal): AsyncGenerator<SpeechStreamPart> {
    this.requests.push(request);
    await this.options.beforeRequest?.(this.requests.length - 1);
    const parts = this.options.partsPerSentence ?? 3;
    const pitch =
      (request.voice.data as { pitch: number }).pitch + (request.sampling.seed % 97) + request.text.length;
    yield { type: 'audio-start', sampleRate: 24000 };
    try {
      for (let index = 0; index < parts; index += 1) {
        if (this.options.partDelayMs)
          await sleep(this.options.partDelayMs, undefined, { signal }).catch(() => {});
        if (signal.aborted) throw new CancelledError();
        if (this.options.failAfterParts !== undefined && this.partsYielded >= this.options.failAfterParts) {
          throw new EngineFailedError('the fake engine failed on purpose');
        }
        this.partsYielded += 1;
        const samples = new Float32Array(2400);
        for (let i = 0; i < samples.length; i += 1) {
          samples[i] = 0.3 * Math.sin((2 * Math.PI * pitch * (i + index * 2400)) / 24000);
        }
        yield { type: 'audio-delta', samples };
      }
    } finally {
      if (signal.aborted) this.cancelledRequests += 1;
    }
    yield { type: 'audio-end', finishReason: 'end-of-speech', frames: parts * 1 };
  }

  async close(): Promise<void> {}
}

/**
 * Holds the requests from the `from`-th on (counted from 0) until `release()`, or `fallbackMs` at most,
 * as a FakeTtsEngine's beforeRequest: a test then waits for what it watches (the first audio, a
 * refusal) instead of for a time, and still ends if that never comes.
 */
export function requestGate(from: number, fallbackMs = 10_000) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    beforeRequest: async (index: number) => {
      if (index >= from) await Promise.race([released, sleep(fallbackMs, undefined, { ref: false })]);
    },
    release: () => release(),
  };
}
