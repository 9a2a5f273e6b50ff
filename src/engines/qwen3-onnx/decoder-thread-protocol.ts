import type { Qwen3Manifest } from '../../models/qwen3-manifest.ts';
import type { ProviderChoice } from '../../onnx/session-options.ts';

/**
 * Messages between a model worker and its codec decoder thread (decoder-worker.ts). Codes and audio
 * are transferred, not copied; a stream's decoder state never leaves the decoder thread.
 */
export interface DecoderThreadConfiguration {
  /** The model's manifest, as the worker read it, and the variant's directory (the graphs). */
  manifest: Qwen3Manifest;
  variantDirectory: string;
  provider: ProviderChoice;
  /** TTS_DECODER_STATES. */
  referenceDecoderStates: number;
}

export type DecoderThreadRequest =
  /**
   * Starts a stream from the decoder state after the voice's reference frames (see decoderStateAfter);
   * `keep`: keep that state among the voices' (false for frames that are not a voice's reference).
   */
  | {
      type: 'open';
      id: number;
      stream: number;
      referenceCodes: Int32Array;
      referenceFrames: number;
      keep: boolean;
    }
  /** The audio of the next `frames` frames of a stream. */
  | { type: 'step'; id: number; stream: number; codes: Int32Array; frames: number }
  /** codec_decoder on a window of frames: the audio after its first `context` frames. */
  | { type: 'window'; id: number; codes: Int32Array; frames: number; context: number }
  /** Forgets a stream; its pieces not yet decoded are dropped. Acts on arrival, not in turn. */
  | { type: 'close'; stream: number }
  /** Ends the thread after the session run under way (none is cut short). */
  | { type: 'shutdown' };

export type DecoderThreadResponse =
  | { type: 'ready' }
  | { type: 'load-failed'; message: string }
  /**
   * `primed`: reference frames decoded for it (0 when the voice's state was kept); `ms`: their time;
   * `lastFrameAudio`: the last reference frame's audio (empty without a reference).
   */
  | { type: 'opened'; id: number; primed: number; ms: number; lastFrameAudio: Float32Array }
  | { type: 'audio'; id: number; samples: Float32Array; ms: number }
  | { type: 'error'; id: number; message: string };
