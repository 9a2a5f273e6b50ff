import { joinSamples } from '../../audio/join-samples.ts';
import type { Qwen3Manifest } from '../../models/qwen3-manifest.ts';
import { officialChunkFrames, officialCut, streamingContext } from './codec-decoding.ts';
import type { CodecDecoderThread, DecodedAudio, DecoderStream, OpenedStream } from './decoder-thread.ts';

/** A piece handed to the decoder thread; `outcome` is set once it is decoded (or failed). */
interface Piece {
  done: Promise<void>;
  outcome?: { audio: DecodedAudio } | { error: unknown };
}

/**
 * A stream's audio, decoded in pieces on the decoder thread while the worker goes on generating frames.
 * With codec_decoder_step every frame is decoded once, the decoder's state carried from piece to piece,
 * which equals one decode of the whole sequence; the reference frames (ICL), which precede the generated
 * ones in the official decode, go through the state first and their audio is dropped (a voice's state
 * after them is kept by the decoder thread). Models without it (older exports): each piece is decoded
 * again with at least the decoder's attention window as left context.
 *
 * For a request that is not streamed (`official`), the pieces give the official chunked decode
 * instead: each official chunk (300 frames) goes through a stream of its own, started from the state
 * after the chunk's left context (25 frames) as the official decode starts each chunk's window, so
 * every chunk is decoded beside generation too (see officialAudio).
 */
export class StreamedDecoding {
  /** Through codec_decoder_step: the stream, or in official mode one per official chunk so far. */
  private readonly streams: DecoderStream[] = [];
  private readonly pieces: Piece[] = [];
  private readonly contextFrames: number;
  private readonly firstPiece: number;
  private readonly laterPiece: number;
  /** In official mode, the official decode's chunk: pieces stop at its ends and restart a stream. */
  private readonly officialChunk: number | undefined;
  private nextToDecode: number;
  private lastPiece = 0;
  private referenceDone = false;
  /**
   * The decoder's own time for the pieces taken so far (and, in official mode, for later chunks' left
   * context), and the first piece's.
   */
  decoderMs = 0;
  firstPieceMs: number | undefined;
  /** Time the worker waited for the decoder (only at the end, when every frame is made). */
  waitedMs = 0;

  constructor(
    private readonly manifest: Qwen3Manifest,
    private readonly decoder: CodecDecoderThread,
    /** Every frame's codes [frames × groups], the reference's first; written by the caller as it goes. */
    private readonly codes: Int32Array,
    private readonly referenceFrames: number,
    pieceFrames: { first?: number; later?: number },
    /**
     * Decode as the official chunked decode does, for officialAudio (a request that is not streamed);
     * needs codec_decoder_step and a reference within the first chunk.
     */
    official = false,
  ) {
    this.officialChunk = official ? officialChunkFrames(manifest) : undefined;
    if (official && !manifest.codecDecoderStep)
      throw new Error('the official decode is made beside generation only with codec_decoder_step');
    if (this.officialChunk !== undefined && referenceFrames >= this.officialChunk)
      throw new Error(
        'the official decode is made beside generation only for a reference within its first chunk',
      );
    // Opened at once: the reference frames go through the decoder while the talker takes the prompt.
    if (manifest.codecDecoderStep)
      this.streams.push(
        decoder.openStream(
          codes.subarray(0, referenceFrames * manifest.dimensions.codeGroups),
          referenceFrames,
        ),
      );
    this.nextToDecode = referenceFrames;
    this.contextFrames = this.stream ? 0 : streamingContext(manifest);
    const pieceLimit = Math.max(1, manifest.audio.decoderMaxFrames - this.contextFrames);
    // Through the decoder's state: one frame first (first audio waits for one frame, not four), then
    // 2, then 4 at a time. The decoder costs about the same per frame at any piece size (40–55 ms on a
    // CPU core at the real size), and it runs beside generation, so small pieces keep it busy while
    // frames are made and leave little to decode once the last one is (16-frame pieces left up to
    // 0.8 s of it). The windowed path keeps 4, then 16: each of its pieces decodes its context again.
    this.firstPiece = Math.min(pieceFrames.first ?? (this.stream ? 1 : 4), pieceLimit);
    this.laterPiece = Math.min(pieceFrames.later ?? (this.stream ? 4 : 16), pieceLimit);
    void this.reference.then(
      () => (this.referenceDone = true),
      () => (this.referenceDone = true),
    );
  }

  /** The stream the next piece goes through (the last one opened). */
  private get stream(): DecoderStream | undefined {
    return this.streams.at(-1);
  }

  /** The reference frames' passage through the decoder: how many were decoded now, their time, and the last one's audio. */
  get reference(): Promise<OpenedStream> {
    return (
      this.streams[0]?.opened ?? Promise.resolve({ primed: 0, ms: 0, lastFrameAudio: new Float32Array(0) })
    );
  }

  private nextPiece(): number {
    if (this.lastPiece === 0) return this.firstPiece;
    return this.stream
      ? Math.min(this.laterPiece, Math.max(this.firstPiece, this.lastPiece * 2))
      : this.laterPiece;
  }

  /**
   * Hands the decoder every whole piece of the frames made so far (`totalFrames`, reference included);
   * with `flush`, the rest too.
   */
  submit(totalFrames: number, flush: boolean): void {
    const groups = this.manifest.dimensions.codeGroups;
    const framesOf = (start: number, count: number) =>
      this.codes.subarray(start * groups, (start + count) * groups);
    for (;;) {
      const start = this.nextToDecode;
      const chunk = this.officialChunk;
      // In official mode a piece ends where its chunk does.
      const chunkEnd =
        chunk === undefined ? Number.POSITIVE_INFINITY : (Math.floor(start / chunk) + 1) * chunk;
      const wanted = Math.min(this.nextPiece(), chunkEnd - start);
      const available = totalFrames - start;
      if (available <= 0 || (!flush && available < wanted)) return;
      if (chunk !== undefined && start % chunk === 0 && start >= chunk) {
        // A later official chunk: decoded from the state after its left context, as the official
        // window is (positions from 0); that state is no voice's, so it is not kept.
        const context = this.manifest.audio.decoderLeftContext;
        const chunkStream = this.decoder.openStream(framesOf(start - context, context), context, {
          keep: false,
        });
        // The context's run is decoder time too (a failure is the chunk's first piece's to report).
        chunkStream.opened.then(
          (opened) => (this.decoderMs += opened.ms),
          () => undefined,
        );
        this.streams.push(chunkStream);
      }
      const count = Math.min(available, wanted);
      const samples = count * this.manifest.audio.samplesPerFrame;
      let decoded: Promise<DecodedAudio>;
      if (this.stream) {
        // The open's failure, if any, is the one to report (the pieces after it fail for want of a state).
        const step = this.stream.decode(framesOf(start, count), count);
        decoded = Promise.all([this.stream.opened, step]).then(([, audio]) => audio);
      } else {
        const context = Math.min(this.contextFrames, start);
        decoded = this.decoder
          .decode(framesOf(start - context, context + count), context + count, context)
          .then((audio) => ({ samples: audio.samples.subarray(0, samples), ms: audio.ms }));
      }
      const piece: Piece = {
        done: decoded.then(
          (audio) => void (piece.outcome = { audio }),
          (error: unknown) => void (piece.outcome = { error }),
        ),
      };
      this.pieces.push(piece);
      this.nextToDecode += count;
      this.lastPiece = count;
    }
  }

  /**
   * The pieces decoded so far, in order; with `wait`, every piece handed over, waiting for each. The
   * first piece is waited for anyway once the reference frames are through: first audio then comes as
   * soon as it is decoded, not after the worker's next session run (while a new voice's reference
   * frames are still decoding, generation goes on instead).
   */
  async *take(wait: boolean): AsyncGenerator<Float32Array> {
    while (this.pieces.length > 0) {
      const piece = this.pieces[0];
      if (!piece.outcome) {
        if (!wait && !(this.firstPieceMs === undefined && this.referenceDone)) return;
        const before = performance.now();
        await piece.done;
        this.waitedMs += performance.now() - before;
      }
      this.pieces.shift();
      const outcome = piece.outcome!;
      if ('error' in outcome) throw outcome.error;
      this.decoderMs += outcome.audio.ms;
      this.firstPieceMs ??= outcome.audio.ms;
      yield outcome.audio.samples;
    }
  }

  /** Made with `official` (for officialAudio). */
  get isOfficial(): boolean {
    return this.officialChunk !== undefined;
  }

  /**
   * Once every frame is made (`totalFrames`, reference included), in official mode: the official
   * chunked decode's audio (decodeLikeOfficial's), from the pieces decoded beside generation, one
   * array per official chunk as decodeLikeOfficial gives it (a whole answer in a few large parts, not
   * hundreds of small ones, which cost the server's event loop more to pass on).
   */
  async *officialAudio(totalFrames: number): AsyncGenerator<Float32Array> {
    const chunk = this.officialChunk;
    if (chunk === undefined) throw new Error('officialAudio needs a StreamedDecoding made with official');
    this.submit(totalFrames, true);
    const frameSamples = this.manifest.audio.samplesPerFrame;
    let parts: Float32Array[] = [];
    // The official cut sometimes falls a sample inside the last reference frame (officialCut).
    const { lastFrameAudio } = await this.reference;
    const extra =
      this.referenceFrames * frameSamples - officialCut(this.referenceFrames, totalFrames, frameSamples);
    if (extra > 0) parts.push(lastFrameAudio.slice(frameSamples - extra));
    let frame = this.referenceFrames;
    for await (const piece of this.take(true)) {
      parts.push(piece);
      frame += piece.length / frameSamples;
      if (frame % chunk === 0 || frame === totalFrames) {
        yield parts.length === 1 ? parts[0] : joinSamples(parts);
        parts = [];
      }
    }
  }

  /** Forgets the streams in the decoder thread (their pieces not yet decoded are dropped). */
  close(): void {
    for (const stream of this.streams) stream.close();
  }
}
