import type { SpeechStreamPart } from './speech-stream-parts.ts';

/**
 * The models this server serves: the seed's Base models, the ones that clone a voice from a reference.
 * (The seed's CustomVoice and VoiceDesign keys are only recognised by /load, to say so.)
 */
export const MODEL_KEYS = ['base_0.6b', 'base_1.7b'] as const;
export type ModelKey = (typeof MODEL_KEYS)[number];

export const LANGUAGES = [
  'Auto',
  'Chinese',
  'English',
  'Japanese',
  'Korean',
  'German',
  'French',
  'Russian',
  'Portuguese',
  'Spanish',
  'Italian',
] as const;
export type Language = (typeof LANGUAGES)[number];

/** Decoded reference speech: mono float PCM at 24 kHz, identified by a content hash. */
export interface ReferenceAudio {
  samples: Float32Array;
  sampleRate: 24000;
  /** sha256 hex of the decoded samples; keys every cache derived from this audio. */
  hash: string;
  /** The original bytes and their media type, for engines that forward audio (remote engines). */
  original?: { bytes: Buffer; mediaType: string };
  /** What may make this recording clone badly (clipping, noise, too little speech), for the client. */
  warnings?: string[];
}

export interface VoicePromptRequest {
  model: ModelKey;
  reference: ReferenceAudio;
  /** Transcript of the reference; ignored in x-vector-only mode. */
  referenceText: string;
  xVectorOnly: boolean;
}

/**
 * A voice ready for generation, computed once per request (and cached by the engine).
 * `id` is a content hash of everything it was made from; `data` belongs to the engine that made it.
 */
export interface VoicePrompt {
  id: string;
  model: ModelKey;
  xVectorOnly: boolean;
  data: unknown;
}

/** The code predictor's ("sub-talker's") own settings, named as in the official generation_config. */
export interface SubtalkerOptions {
  doSample?: boolean;
  topK?: number;
  topP?: number;
  temperature?: number;
}

/**
 * Generation settings of one request. Every field left out takes the model's own default (its
 * generation_config), as the official `generate_voice_clone` does; engines resolve them.
 */
export interface SamplingOptions {
  /** The seed for this piece of text; the core passes seed + sentence index. */
  seed: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  doSample?: boolean;
  maxNewTokens?: number;
  subtalker?: SubtalkerOptions;
}

export interface SpeechRequest {
  model: ModelKey;
  /** One sentence or chunk; the core splits long text before it reaches an engine. */
  text: string;
  language: Language;
  voice: VoicePrompt;
  sampling: SamplingOptions;
  /**
   * The client plays audio as it is made: decode in small chunks as frames arrive. When false the
   * engine may decode the whole utterance at once, as the official non-streaming code does.
   */
  streaming: boolean;
}

export interface EngineCapabilities {
  voiceCloning: boolean;
  /** Audio parts arrive while generation runs (not one part at the end). */
  streaming: boolean;
  /** The sample rate of every stream this engine yields. */
  sampleRate: number;
}

export interface ModelStatus {
  key: ModelKey;
  installed: boolean;
  loaded: boolean;
  /** Where the model lives: a directory, or a remote engine's URL. */
  location?: string;
  /** Its manifest says it is synthetic (random weights from `models synth`): it speaks noise. */
  synthetic?: boolean;
}

export interface EngineHealth {
  ok: boolean;
  /** What is wrong and what to do, when not ok. */
  message?: string;
}

/**
 * A speech engine: the embedded ONNX engine and remote engines implement this, and the core
 * depends on nothing else. Methods throw ServerError subclasses (ModelNotAvailableError,
 * EngineOverloadedError, EngineUnavailableError, EngineFailedError, CancelledError).
 */
export interface TtsEngine {
  readonly name: string;
  readonly capabilities: EngineCapabilities;
  readonly languages: readonly Language[];

  /** Every model this engine knows of, installed or not. */
  models(): Promise<ModelStatus[]>;
  /** Loads a model so that it can serve; idempotent. */
  loadModel(key: ModelKey): Promise<void>;
  /**
   * Runs a loaded model once on stand-in input, so that the first request is not slowed by first-run
   * costs; resolves with the milliseconds it took. Engines without such costs leave it out.
   */
  warmUp?(key: ModelKey): Promise<number>;
  loadedModels(): ModelKey[];
  /**
   * What identifies a loaded model's weights (and variant), so that stored results are never served
   * from other weights; undefined when the engine cannot know them (a remote server).
   */
  modelIdentity?(key: ModelKey): string | undefined;
  /**
   * The loaded models that are synthetic (random weights: they speak noise), for the log, /health,
   * /info and the try-it page. Answered from memory; engines that cannot load one leave it out.
   */
  syntheticModels?(): ModelKey[];
  health(): Promise<EngineHealth>;

  /** Turns a reference into a reusable voice prompt (speaker embedding, reference codes …). */
  prepareVoice(request: VoicePromptRequest, signal: AbortSignal): Promise<VoicePrompt>;

  /** Streams speech for one piece of text. Stops promptly when `signal` aborts or the consumer breaks. */
  generate(request: SpeechRequest, signal: AbortSignal): AsyncIterable<SpeechStreamPart>;

  close(): Promise<void>;
}
