import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { DecoderStateSnapshot } from './decoder-step-state.ts';

/** A voice's decoder state after its reference frames, and the audio of its last reference frame. */
export interface PrimedReference {
  state: DecoderStateSnapshot;
  /**
   * The last reference frame's audio: the official decode cuts the reference off at a sample index
   * computed in floating point, which sometimes falls a sample inside that frame (see officialCut).
   */
  lastFrameAudio: Float32Array;
}

/**
 * The streamed codec decoder's state after a voice's reference frames, kept per worker for the voices
 * used most recently. In ICL mode every streamed request first runs the reference frames (3–10 s of
 * speech, 40–125 frames) through codec_decoder_step and drops their audio; that state depends on the
 * reference codes alone, so a voice's second request starts from it instead: at the real sizes this
 * was most of the time to first audio. A state is about 5 MB at the real sizes (23 tensors, mostly the
 * decoder transformer's 71-frame attention window), so `capacity` bounds the memory.
 */
export class ReferenceDecoderStates {
  private readonly states: LRUCache<string, PrimedReference> | undefined;

  constructor(capacity: number) {
    this.states = capacity > 0 ? new LRUCache({ max: capacity }) : undefined;
  }

  get(referenceCodes: Int32Array): PrimedReference | undefined {
    return this.states?.get(keyOf(referenceCodes));
  }

  set(referenceCodes: Int32Array, primed: PrimedReference): void {
    this.states?.set(keyOf(referenceCodes), primed);
  }
}

/** The codes themselves decide the state; a digest keeps the key small. */
function keyOf(referenceCodes: Int32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(referenceCodes.buffer, referenceCodes.byteOffset, referenceCodes.byteLength))
    .digest('base64');
}
