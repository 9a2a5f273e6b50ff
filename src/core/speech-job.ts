import type { Language, ModelKey, SamplingOptions } from '../engines/interfaces/tts-engine.ts';

/** One text to speak with its reference voice (list requests have several). */
export interface SpeechItem {
  text: string;
  /** ref_audio as the client sent it: a path inside REF_AUDIO_DIR, a URL, or base64 / a data URL. */
  referenceAudio: string;
  referenceText: string;
  /** This text's own language, when the client sent one per text (else the job's). */
  language?: Language;
}

/** A validated synthesis request, independent of HTTP. */
export interface SpeechJob {
  model: ModelKey;
  items: SpeechItem[];
  language: Language;
  xVectorOnly: boolean;
  /** true: split into sentences; false: one piece; null: decide from the text. */
  splitSentences: boolean | null;
  /** Sentence i of each item is generated with seed + i. */
  seed: number;
  /** The client chose the seed, so asking again means wanting the same audio: it may be cached. */
  repeatable?: boolean;
  sampling: Omit<SamplingOptions, 'seed'>;
  /** The client plays the audio as it arrives (SSE, chunked responses), rather than as a whole. */
  streaming: boolean;
  normalize: boolean;
  pronunciations?: Record<string, string>;
  /** Who asked (the client's address): the engine's queue is shared fairly between clients. */
  client?: string;
}

/** What the core streams: each item's sentences, then audio as the engine produces it. */
export type SpeechEvent =
  | { type: 'item-start'; itemIndex: number; sentences: string[] }
  | {
      type: 'audio';
      itemIndex: number;
      sentenceIndex: number;
      sentence: string;
      samples: Float32Array;
      sampleRate: number;
    }
  | { type: 'item-end'; itemIndex: number; samples: number };
