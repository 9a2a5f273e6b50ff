import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { chooseProvider, sessionOptions } from '../../src/onnx/session-options.ts';

/** A graph with enough convolution work for ONNX Runtime to use its thread pool (the official-class codec encoder). */
const GRAPH = new URL(
  '../fixtures/qwen3-official/base_0.6b/model/float32/codec_encoder.onnx',
  import.meta.url,
).pathname;
const GAPS = 8;
const GAP_MS = 40;

/**
 * CPU time the process spends between runs while it only waits on a timer: what the session's pool
 * threads burn waiting for work (the calling thread sleeps). Runs with two intra-op threads.
 */
async function idleCpuMs(spinning: boolean): Promise<number> {
  const session = await ort.InferenceSession.create(
    GRAPH,
    sessionOptions(chooseProvider('cpu', { threads: 2, spinning })),
  );
  try {
    const audio = new Float32Array(24000).map((_value, index) => 0.2 * Math.sin(index / 11));
    const feeds = { audio: new ort.Tensor('float32', audio, [1, audio.length]) };
    await session.run(feeds);
    let idle = 0;
    for (let gap = 0; gap < GAPS; gap += 1) {
      await session.run(feeds);
      const before = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, GAP_MS));
      const used = process.cpuUsage(before);
      idle += (used.user + used.system) / 1000;
    }
    return idle;
  } finally {
    await session.release();
  }
}

describe('ONNX Runtime session options', () => {
  it('turns the pool threads’ busy wait off unless TTS_THREAD_SPINNING asks for it', () => {
    const setting = (spinning?: boolean) =>
      (sessionOptions(chooseProvider('cpu', { spinning })).extra as { session: { intra_op: object } }).session
        .intra_op;
    assert.deepEqual(setting(), { allow_spinning: '0' });
    assert.deepEqual(setting(true), { allow_spinning: '1' });
  });

  it('leaves idle sessions’ threads asleep: no CPU between runs without spinning', async () => {
    const quiet = await idleCpuMs(false);
    const spinning = await idleCpuMs(true);
    console.log(
      `CPU between runs (${GAPS} × ${GAP_MS} ms): ${quiet.toFixed(1)} ms without spinning, ${spinning.toFixed(1)} ms with`,
    );
    // Spinning threads burn most of each gap (shown so that this test is seen to measure something);
    // sleeping ones only wake for the timer.
    assert.ok(quiet < GAPS * 3, `${quiet.toFixed(1)} ms of CPU in ${GAPS} idle gaps`);
    assert.ok(spinning > quiet, 'the measurement sees spinning threads');
  });
});
