import { parentPort, workerData } from 'node:worker_threads';
import { CodecDecoderRuntime } from './codec-decoder-runtime.ts';
import type { DecoderStepState } from './decoder-step-state.ts';
import type {
  DecoderThreadConfiguration,
  DecoderThreadRequest,
  DecoderThreadResponse,
} from './decoder-thread-protocol.ts';

/**
 * A model worker's codec decoder thread: it turns codes into audio while the worker generates the next
 * frames, so that on a CPU the decoder's convolutions and the talker's matmuls run on different cores at
 * the same time. Requests are handled one at a time, in the order they came, because a stream's pieces
 * must go through its state in order (and session.run blocks this thread anyway).
 */
const configuration = workerData as DecoderThreadConfiguration;
const port = parentPort!;
const send = (message: DecoderThreadResponse, transfer: ArrayBuffer[] = []) =>
  port.postMessage(message, transfer);

let decoder: CodecDecoderRuntime;
try {
  decoder = await CodecDecoderRuntime.load(
    configuration.manifest,
    configuration.variantDirectory,
    configuration.provider,
    configuration.referenceDecoderStates,
  );
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'load-failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

/** A stream's state, once its reference frames are through; `closed` drops its remaining pieces. */
interface StreamRecord {
  state?: DecoderStepState;
  closed: boolean;
}
const streams = new Map<number, StreamRecord>();
let stopping = false;
let queue: Promise<void> = Promise.resolve();

/** Runs `work` after everything that came before it; a failure is answered to request `id` alone. */
function inTurn(id: number, work: () => Promise<void>): void {
  queue = queue.then(async () => {
    if (stopping) return;
    try {
      await work();
    } catch (error) {
      send({ type: 'error', id, message: error instanceof Error ? error.message : String(error) });
    }
  });
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const startedAt = performance.now();
  const result = await run();
  return { result, ms: performance.now() - startedAt };
}

port.on('message', (message: DecoderThreadRequest) => {
  switch (message.type) {
    case 'shutdown':
      stopping = true;
      void queue.then(() => process.exit(0));
      return;
    case 'close': {
      const record = streams.get(message.stream);
      if (record) record.closed = true;
      streams.delete(message.stream);
      return;
    }
    case 'open': {
      const record: StreamRecord = { closed: false };
      streams.set(message.stream, record);
      inTurn(message.id, async () => {
        if (record.closed) return;
        const { result, ms } = await timed(() =>
          decoder.decoderStateAfter(message.referenceCodes, message.referenceFrames, message.keep),
        );
        if (!result) throw new Error('this model has no codec_decoder_step');
        record.state = result.state;
        const { primed } = result;
        // A copy: the array sent is transferred (emptied here), and the voice's state keeps its own.
        const lastFrameAudio = result.lastFrameAudio.slice();
        send({ type: 'opened', id: message.id, primed, ms, lastFrameAudio }, [
          lastFrameAudio.buffer as ArrayBuffer,
        ]);
      });
      return;
    }
    case 'step': {
      const record = streams.get(message.stream);
      inTurn(message.id, async () => {
        if (!record) throw new Error(`no stream ${message.stream} was opened`);
        if (record.closed) return; // its client stopped waiting when it closed the stream
        if (!record.state) throw new Error('the stream was not opened');
        const state = record.state;
        const { result: samples, ms } = await timed(() =>
          decoder.decodeStep(message.codes, message.frames, state),
        );
        send({ type: 'audio', id: message.id, samples, ms }, [samples.buffer as ArrayBuffer]);
      });
      return;
    }
    case 'window':
      inTurn(message.id, async () => {
        const { result: samples, ms } = await timed(() =>
          decoder.decode(message.codes, message.frames, message.context),
        );
        send({ type: 'audio', id: message.id, samples, ms }, [samples.buffer as ArrayBuffer]);
      });
      return;
  }
});
