import type { Worker } from 'node:worker_threads';
import { startWorker, workerScript } from '../../onnx/start-worker.ts';
import type {
  DecoderThreadConfiguration,
  DecoderThreadRequest,
  DecoderThreadResponse,
} from './decoder-thread-protocol.ts';

/** Decoded audio and the decoder's own time for it (its session runs, in the decoder thread). */
export interface DecodedAudio {
  samples: Float32Array;
  ms: number;
}

type Answer = Extract<DecoderThreadResponse, { id: number }>;

interface Waiting {
  stream?: number;
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
}

/**
 * The model worker's handle on its codec decoder thread (decoder-worker.ts). Requests return at once
 * with a promise, so the worker goes on generating while earlier frames are decoded; the thread
 * answers them in the order they were made.
 */
export class CodecDecoderThread {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private nextStream = 1;
  private failure: Error | undefined;
  private stopping = false;

  private constructor(
    private readonly worker: Worker,
    onFailure?: (error: Error) => void,
  ) {
    worker.on('message', (message: DecoderThreadResponse) => {
      if (!('id' in message)) return;
      const waiting = this.waiting.get(message.id);
      if (!waiting) return; // a piece of a stream closed meanwhile
      this.waiting.delete(message.id);
      if (message.type === 'error') waiting.reject(new Error(message.message));
      else waiting.resolve(message);
    });
    const fail = (error: Error) => {
      if (this.failure || this.stopping) return;
      this.failure = new Error(`the codec decoder thread stopped: ${error.message}`, { cause: error });
      for (const waiting of this.waiting.values()) waiting.reject(this.failure);
      this.waiting.clear();
      onFailure?.(this.failure);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  }

  /** Starts the thread and waits until its sessions are loaded. */
  static start(
    configuration: DecoderThreadConfiguration,
    /** Called once if the thread dies while in use (its waiting requests fail with the same error). */
    onFailure?: (error: Error) => void,
  ): Promise<CodecDecoderThread> {
    const worker = startWorker(workerScript('./decoder-worker', import.meta.url), configuration);
    return new Promise((resolve, reject) => {
      // A thread that ends before it is ready without saying why (killed, out of memory) must not
      // leave its model worker waiting for ever.
      const onExit = (code: number) =>
        reject(new Error(`the codec decoder thread exited (code ${code}) before its sessions loaded`));
      const onMessage = (message: DecoderThreadResponse) => {
        if (message.type === 'ready') {
          worker.off('message', onMessage);
          worker.off('error', reject);
          worker.off('exit', onExit);
          resolve(new CodecDecoderThread(worker, onFailure));
        } else if (message.type === 'load-failed') reject(new Error(message.message));
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', onExit);
    });
  }

  private ask(request: DecoderThreadRequest & { id: number }, transfer: ArrayBuffer[], stream?: number) {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopping) return Promise.reject(new Error('the codec decoder thread was stopped'));
    return new Promise<Answer>((resolve, reject) => {
      this.waiting.set(request.id, { stream, resolve, reject });
      this.worker.postMessage(request, transfer);
    });
  }

  /** codec_decoder on codes [frames × groups]: the audio after the first `context` frames. */
  async decode(codes: Int32Array, frames: number, context: number): Promise<DecodedAudio> {
    const copy = codes.slice();
    const answer = await this.ask({ type: 'window', id: this.nextId++, codes: copy, frames, context }, [
      copy.buffer,
    ]);
    return audioOf(answer);
  }

  /**
   * A stream through codec_decoder_step, starting from the state after the voice's reference frames.
   * Its pieces are decoded in the order they are given; close() it when done (or abandoned).
   */
  openStream(
    referenceCodes: Int32Array,
    referenceFrames: number,
    /** Keep the state after these frames as a voice's (false: they are not a voice's reference). */
    { keep = true }: { keep?: boolean } = {},
  ): DecoderStream {
    const stream = this.nextStream++;
    const reference = referenceCodes.slice();
    const opened = this.ask(
      { type: 'open', id: this.nextId++, stream, referenceCodes: reference, referenceFrames, keep },
      [reference.buffer],
      stream,
    ).then((answer) => {
      if (answer.type !== 'opened') throw new Error(`the decoder thread answered ${answer.type} to open`);
      return { primed: answer.primed, ms: answer.ms, lastFrameAudio: answer.lastFrameAudio };
    });
    // Its failure reaches whoever awaits it (or a piece after it); unawaited, it is no crash.
    opened.catch(() => undefined);
    return {
      opened,
      decode: async (codes, frames) => {
        const copy = codes.slice();
        const answer = await this.ask(
          { type: 'step', id: this.nextId++, stream, codes: copy, frames },
          [copy.buffer],
          stream,
        );
        return audioOf(answer);
      },
      close: () => {
        for (const [id, waiting] of this.waiting)
          if (waiting.stream === stream) {
            this.waiting.delete(id);
            waiting.reject(new Error('the stream was closed'));
          }
        if (!this.failure) this.worker.postMessage({ type: 'close', stream } satisfies DecoderThreadRequest);
      },
    };
  }

  /** Stops the thread after its session run under way, and waits for it. */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.failure) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'shutdown' } satisfies DecoderThreadRequest);
    await exited;
    // The run under way was answered; what was still queued never will be.
    const stopped = new Error('the codec decoder thread was stopped');
    for (const waiting of this.waiting.values()) waiting.reject(stopped);
    this.waiting.clear();
  }
}

export interface OpenedStream {
  /** Reference frames decoded for the stream (0 when the voice's state was kept), and their time. */
  primed: number;
  ms: number;
  /** The last reference frame's audio (empty without a reference frame). */
  lastFrameAudio: Float32Array;
}

/** One stream through the decoder thread (see CodecDecoderThread.openStream). */
export interface DecoderStream {
  /** Settles once the reference frames are through (`primed` of them decoded now, in `ms`). */
  readonly opened: Promise<OpenedStream>;
  decode(codes: Int32Array, frames: number): Promise<DecodedAudio>;
  close(): void;
}

function audioOf(answer: Answer): DecodedAudio {
  if (answer.type !== 'audio') throw new Error(`the decoder thread answered ${answer.type} to a decode`);
  return { samples: answer.samples, ms: answer.ms };
}
