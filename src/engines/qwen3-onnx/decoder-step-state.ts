import * as ort from 'onnxruntime-node';
import type { Qwen3Manifest } from '../../models/qwen3-manifest.ts';

export type DecoderStepEntry = NonNullable<Qwen3Manifest['codecDecoderStep']>;

/** A state kept to start later sequences from (see ReferenceDecoderStates). */
export interface DecoderStateSnapshot {
  position: number;
  tensors: Record<string, ort.Tensor>;
}

/**
 * One request's state of the streamed codec decoder (codec_decoder_step, docs/qwen3-onnx-layout.md):
 * every state tensor the manifest lists, zeros at the start of a sequence (the official decoder's
 * zero padding and empty attention window), then what the last piece gave back; and the position of
 * the next frame, which places its rotary angles and attention window.
 */
export class DecoderStepState {
  /** Frames decoded so far: the next piece's first frame. */
  position = 0;
  private tensors: Record<string, ort.Tensor>;

  constructor(
    private readonly entry: DecoderStepEntry,
    from?: DecoderStateSnapshot,
  ) {
    if (from) {
      this.position = from.position;
      this.tensors = from.tensors;
      return;
    }
    this.tensors = Object.fromEntries(
      entry.states.map((state) => {
        const size = state.shape.reduce((product, dim) => product * dim, 1);
        return [`past.${state.name}`, new ort.Tensor('float32', new Float32Array(size), state.shape)];
      }),
    );
  }

  /** The `past.<name>` inputs of the next run. */
  feeds(): Record<string, ort.Tensor> {
    return this.tensors;
  }

  /**
   * This state as it is now, to start other sequences from. Not a copy: a run only reads its `past`
   * inputs and advance() replaces them rather than writing into them, so the tensors can be shared.
   */
  snapshot(): DecoderStateSnapshot {
    return { position: this.position, tensors: this.tensors };
  }

  /** Keeps a run's `present.<name>` outputs as the next run's `past.<name>` inputs (no copy). */
  advance(outputs: Record<string, ort.Tensor>, frames: number): void {
    const next: Record<string, ort.Tensor> = {};
    for (const state of this.entry.states) {
      const present = outputs[`present.${state.name}`];
      if (!present) throw new Error(`codec_decoder_step gave no present.${state.name}`);
      next[`past.${state.name}`] = present;
    }
    this.tensors = next;
    this.position += frames;
  }
}
