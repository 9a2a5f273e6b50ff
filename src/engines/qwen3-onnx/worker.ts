import { parentPort, workerData } from 'node:worker_threads';
import { generateSpeech } from './generate.ts';
import { Qwen3ModelRuntime } from './model-runtime.ts';
import { WorkerJobs } from '../../onnx/worker-jobs.ts';
import type { WorkerConfiguration, WorkerRequest, WorkerResponse } from './worker-protocol.ts';

/**
 * A model worker: every ONNX session run happens here, because session.run blocks the thread it runs
 * on. The main thread only sends small requests and receives audio buffers (transferred).
 */
const configuration = workerData as WorkerConfiguration;
const port = parentPort!;
const send = (message: WorkerResponse, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let model: Qwen3ModelRuntime;
try {
  model = await Qwen3ModelRuntime.load(configuration.directory, configuration.dtype, configuration.provider, {
    threads: configuration.decoderThreads,
    referenceStates: configuration.referenceDecoderStates,
    // Its requests fail with the reason; the worker exits so that the pool starts a whole new one.
    onFailure: () => process.exit(1),
  });
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'load-failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

// The decoder thread is stopped between its session runs before the worker exits.
const jobs = new WorkerJobs(() => model.decoder.close());

port.on('message', (message: WorkerRequest) => {
  if (message.type === 'shutdown') return void jobs.stop();
  // The crash hook for tests exits like a crashed worker, but only between session runs.
  if (message.type === 'exit-for-test') return void (configuration.allowTestHooks && jobs.stop(3));
  jobs.run(() =>
    handle(message).catch((error: unknown) => {
      if ('jobId' in message)
        send({
          type: 'error',
          jobId: message.jobId,
          message: error instanceof Error ? error.message : String(error),
        });
    }),
  );
});

/**
 * Runs every graph once on a stand-in reference and a few frames, so that the first real request does
 * not pay for ONNX Runtime's first-run allocations (and, on a GPU, kernel selection).
 */
async function warmUp(): Promise<void> {
  const sampleRate = model.manifest.audio.sampleRate;
  const tone = Float32Array.from({ length: sampleRate }, (_value, index) => 0.1 * Math.sin(index / 20));
  const { codes, frames } = await model.encodeReference(tone);
  const voice = {
    referenceCodes: codes,
    referenceFrames: frames,
    speakerEmbedding: await model.speakerEmbedding(tone),
    referenceText: 'warm up',
    xVectorOnly: false,
  };
  const request = {
    text: 'warm up',
    language: 'auto',
    seed: 0,
    talker: { doSample: false, temperature: 1, topK: 1, topP: 1, repetitionPenalty: 1 },
    subtalker: { doSample: false, temperature: 1, topK: 1, topP: 1 },
    maxNewTokens: 8,
    streaming: true,
  };
  for await (const event of generateSpeech(model, voice, request, () => jobs.stopping)) void event;
  // Commit the KV cache's first pages now rather than during the first requests: 512 positions (about
  // 117 MB at the real sizes) cover a prompt and some 30 s of speech.
  const cache = model.acquireCache();
  cache.prefault(512);
  model.releaseCache(cache);
}

async function handle(
  message: Exclude<WorkerRequest, { type: 'shutdown' | 'exit-for-test' }>,
): Promise<void> {
  if (message.type === 'warm-up') {
    await warmUp();
    send({ type: 'warmed-up', jobId: message.jobId });
    return;
  }
  if (message.type === 'voice') {
    const { codes, frames } = message.xVectorOnly
      ? { codes: new Int32Array(0), frames: 0 }
      : await model.encodeReference(message.samples);
    const speakerEmbedding = await model.speakerEmbedding(message.samples);
    send(
      {
        type: 'voice',
        jobId: message.jobId,
        referenceCodes: codes,
        referenceFrames: frames,
        speakerEmbedding,
      },
      [codes.buffer as ArrayBuffer, speakerEmbedding.buffer as ArrayBuffer],
    );
    return;
  }
  const cancelled = () => jobs.stopping || Atomics.load(message.cancelFlag, 0) !== 0;
  for await (const event of generateSpeech(model, message.voice, message.request, cancelled)) {
    if (event.type === 'audio') {
      const samples = event.samples.slice();
      send({ type: 'audio', jobId: message.jobId, samples }, [samples.buffer]);
    } else
      send(
        {
          type: 'end',
          jobId: message.jobId,
          frames: event.frames,
          finishReason: event.finishReason,
          codes: event.codes,
          timings: event.timings,
        },
        [event.codes.buffer as ArrayBuffer],
      );
  }
  // A cancelled request ends quietly; one stopped by a shutdown gets no end (the pool fails it).
  if (cancelled() && !jobs.stopping)
    send({
      type: 'end',
      jobId: message.jobId,
      frames: 0,
      finishReason: 'length',
      codes: new Int32Array(0),
      timings: { cancelled: 1 },
    });
}
