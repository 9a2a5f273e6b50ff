import * as ort from 'onnxruntime-node';
import type { Qwen3Manifest } from '../../models/qwen3-manifest.ts';

export type DecoderStepEntry = NonNullable<Qwen3Manifest['codecDecoderStep']>;

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

  constructor(private readonly entry: DecoderStepEntry) {
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
