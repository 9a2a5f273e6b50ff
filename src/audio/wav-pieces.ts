import { setImmediate as nextTurn } from 'node:timers/promises';
import { pcm16, wavHeader } from './wav.ts';

/**
 * Samples converted per turn of the event loop: 65536 (2.7 s of 24 kHz speech) take well under a
 * millisecond on a quiet core and a few on a busy one. Converting minutes of speech in one call held
 * the loop for hundreds of milliseconds while other requests were streaming.
 */
const SAMPLES_PER_TURN = 1 << 16;

/**
 * A 16-bit mono WAV built up as speech arrives, kept as pieces: each part is converted in slices with
 * a turn of the event loop between them, and the pieces are never joined into one buffer (copying
 * tens of megabytes at once was itself a stall on a busy machine). Its pieces, back to back, are
 * byte-for-byte what `encodeWav` gives for all the parts joined.
 */
export class WavPieces {
  private readonly data: Buffer[] = [];
  private dataBytes = 0;

  constructor(private readonly sampleRate: number) {}

  async add(samples: Float32Array): Promise<void> {
    for (let start = 0; start < samples.length; start += SAMPLES_PER_TURN) {
      if (start > 0) await nextTurn();
      const piece = pcm16(samples.subarray(start, start + SAMPLES_PER_TURN));
      this.data.push(piece);
      this.dataBytes += piece.length;
    }
  }

  /** The file: its header, then the samples. */
  pieces(): Buffer[] {
    return [wavHeader(this.sampleRate, this.dataBytes), ...this.data];
  }

  get byteLength(): number {
    return 44 + this.dataBytes;
  }
}
