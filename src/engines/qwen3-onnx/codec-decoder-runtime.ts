import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { sessionOptions, type ProviderChoice } from '../../onnx/session-options.ts';
import { int64Tensor, readFloats, scalarInt64 } from '../../onnx/tensors.ts';
import type { Qwen3Manifest } from '../../models/qwen3-manifest.ts';
import { DecoderStepState } from './decoder-step-state.ts';
import { ReferenceDecoderStates } from './reference-decoder-states.ts';

/**
 * Frames per codec_decoder_step run when a voice's reference frames are run through it. Measured on
 * the real-size 0.6B decoder (48 frames, one thread): runs of 4–16 frames took 1.9–2.0 s, one run of
 * 48 took 2.8–4.5 s — a long run's upsampler activations (1920 samples a frame at up to 1536 channels)
 * no longer stay in the CPU's caches.
 */
const REFERENCE_PIECE_FRAMES = 8;

/**
 * The codec decoder's sessions (codes → 24 kHz audio), loaded in the decoder thread
 * (decoder-worker.ts): codec_decoder, which decodes a window of frames, and, where the manifest lists
 * it, codec_decoder_step, which carries its state from piece to piece. Every method is a thin, typed
 * wrapper around one or a few session runs.
 */
export class CodecDecoderRuntime {
  private constructor(
    readonly manifest: Qwen3Manifest,
    private readonly decoder: ort.InferenceSession,
    /** The decoder states after the reference frames of recently used voices. */
    private readonly referenceStates: ReferenceDecoderStates,
    /** codec_decoder_step, where the manifest lists it (older exports have only codec_decoder). */
    private readonly decoderStep?: ort.InferenceSession,
  ) {}

  static async load(
    manifest: Qwen3Manifest,
    variantDirectory: string,
    provider: ProviderChoice,
    /** Voices whose decoder state after their reference frames is kept (TTS_DECODER_STATES). */
    referenceStates: number,
  ): Promise<CodecDecoderRuntime> {
    const options = sessionOptions(provider);
    // Load by path so that external weights (graph.onnx.data) resolve next to the graph.
    const load = (graph: string) =>
      ort.InferenceSession.create(path.join(variantDirectory, `${graph}.onnx`), options);
    return new CodecDecoderRuntime(
      manifest,
      await load('codec_decoder'),
      new ReferenceDecoderStates(referenceStates),
      manifest.codecDecoderStep ? await load(manifest.codecDecoderStep.graph) : undefined,
    );
  }

  /** The first `frames` frames of codes [frames × groups] as the decoders' int64 [1, frames, groups] input. */
  private codesTensor(codes: Int32Array, frames: number): ort.Tensor {
    const groups = this.manifest.dimensions.codeGroups;
    return int64Tensor(
      BigInt64Array.from(codes.subarray(0, frames * groups), (value) => BigInt(value)),
      [1, frames, groups],
    );
  }

  /** Codes [frames × groups] → audio after the first `contextFrames` frames. */
  async decode(codes: Int32Array, frames: number, contextFrames: number): Promise<Float32Array> {
    const output = await this.decoder.run({
      codes: this.codesTensor(codes, frames),
      context_frames: scalarInt64(contextFrames),
    });
    return readFloats(output.audio).slice();
  }

  /**
   * codec_decoder_step's state after `referenceFrames` frames of `referenceCodes` (zeros for none), or
   * undefined when the model has no such graph. Of the reference's audio only its last frame is kept
   * (`lastFrameAudio`, empty without a reference): a voice's state is kept (ReferenceDecoderStates)
   * and `primed` says how many frames were decoded for it this time (0 when it was kept); the
   * returned `lastFrameAudio` may be the kept one, not to be written to or transferred. `keep`:
   * false for frames that are not a voice's reference (an official chunk's left context), whose state
   * would only push voices' states out.
   */
  async decoderStateAfter(
    referenceCodes: Int32Array,
    referenceFrames: number,
    keep = true,
  ): Promise<{ state: DecoderStepState; primed: number; lastFrameAudio: Float32Array } | undefined> {
    const entry = this.manifest.codecDecoderStep;
    if (!this.decoderStep || !entry) return undefined;
    if (referenceFrames === 0)
      return { state: new DecoderStepState(entry), primed: 0, lastFrameAudio: new Float32Array(0) };
    const reference = referenceCodes.subarray(0, referenceFrames * this.manifest.dimensions.codeGroups);
    const kept = keep ? this.referenceStates.get(reference) : undefined;
    if (kept)
      return {
        state: new DecoderStepState(entry, kept.state),
        primed: 0,
        lastFrameAudio: kept.lastFrameAudio,
      };
    const state = new DecoderStepState(entry);
    // In short runs: the state after them is the same as after one long run, and short runs are
    // faster (see REFERENCE_PIECE_FRAMES).
    const pieceFrames = Math.min(REFERENCE_PIECE_FRAMES, this.manifest.audio.decoderMaxFrames);
    const groups = this.manifest.dimensions.codeGroups;
    let audio: Float32Array = new Float32Array(0);
    for (let from = 0; from < referenceFrames; from += pieceFrames) {
      const frames = Math.min(pieceFrames, referenceFrames - from);
      audio = await this.decodeStep(reference.subarray(from * groups), frames, state);
    }
    const lastFrameAudio = audio.slice(audio.length - this.manifest.audio.samplesPerFrame);
    if (keep) this.referenceStates.set(reference, { state: state.snapshot(), lastFrameAudio });
    return { state, primed: referenceFrames, lastFrameAudio };
  }

  /** The audio of exactly `frames` new frames (codes [frames × groups]) after those already in `state`. */
  async decodeStep(codes: Int32Array, frames: number, state: DecoderStepState): Promise<Float32Array> {
    if (!this.decoderStep) throw new Error('this model has no codec_decoder_step');
    const output = await this.decoderStep.run({
      codes: this.codesTensor(codes, frames),
      position: scalarInt64(state.position),
      ...state.feeds(),
    });
    state.advance(output, frames);
    return readFloats(output.audio).slice();
  }

  async release(): Promise<void> {
    await this.decoder.release();
    await this.decoderStep?.release();
  }
}
