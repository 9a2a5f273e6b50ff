/**
 * What a TTS engine's stream yields, in order: one `audio-start`, any number of `audio-delta`,
 * one `audio-end`. Failures are thrown from the iterator (a ServerError), never yielded, so a
 * `for await` loop sees them as exceptions; `break` or the AbortSignal cancels the work.
 */
export interface AudioStartPart {
  type: 'audio-start';
  sampleRate: number;
}

export interface AudioDeltaPart {
  type: 'audio-delta';
  /** Mono float PCM in [-1, 1] at the start part's sample rate. Ownership passes to the consumer. */
  samples: Float32Array;
}

export interface AudioEndPart {
  type: 'audio-end';
  /** Why generation stopped: the model said end-of-speech, or max_new_tokens was reached. */
  finishReason: 'end-of-speech' | 'length';
  /** Codec frames generated (12.5 per second for Qwen3-TTS 12 Hz), when the engine knows. */
  frames?: number;
  /** The generated codec codes, [frames × code groups], when the engine has them (diagnostics, parity). */
  codes?: Int32Array;
  /** Engine-specific timings in milliseconds (e.g. firstAudio, total), for logs and benchmarks. */
  timings?: Record<string, number>;
}

export type SpeechStreamPart = AudioStartPart | AudioDeltaPart | AudioEndPart;
