import type { ProviderChoice } from '../../onnx/session-options.ts';
import type { Qwen3VariantDtype } from '../../models/qwen3-manifest.ts';
import type { GenerationRequest } from './generate.ts';
import type { VoiceData } from './prompt.ts';

/** Messages between the engine (main thread) and a model worker. Buffers are transferred, not copied. */
export interface WorkerConfiguration {
  directory: string;
  /** The variant to load (its graphs' I/O float type follows from it). */
  dtype: Qwen3VariantDtype;
  provider: ProviderChoice;
  /** TTS_DECODER_THREADS: intra-op threads of the worker's codec decoder thread. */
  decoderThreads: number;
  /** TTS_DECODER_STATES. */
  referenceDecoderStates: number;
  /** Lets tests make a worker exit, to check that a crash fails one request and no more. */
  allowTestHooks: boolean;
}

export type WorkerRequest =
  | { type: 'voice'; jobId: number; samples: Float32Array; referenceText: string; xVectorOnly: boolean }
  | { type: 'generate'; jobId: number; voice: VoiceData; request: GenerationRequest; cancelFlag: Int32Array }
  | { type: 'warm-up'; jobId: number }
  | { type: 'exit-for-test' }
  | { type: 'shutdown' };

export type WorkerResponse =
  | { type: 'ready' }
  | { type: 'load-failed'; message: string }
  | {
      type: 'voice';
      jobId: number;
      referenceCodes: Int32Array;
      referenceFrames: number;
      speakerEmbedding: Float32Array;
    }
  | { type: 'audio'; jobId: number; samples: Float32Array }
  | {
      type: 'end';
      jobId: number;
      frames: number;
      finishReason: 'end-of-speech' | 'length';
      codes: Int32Array;
      timings: Record<string, number>;
    }
  | { type: 'warmed-up'; jobId: number }
  | { type: 'error'; jobId: number; message: string };
