import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

/** Nice values of this process's threads, from /proc (field 19 of each thread's stat). */
function threadNiceness(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('lowerThreadPriority', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  it('lowers a worker thread and the inference threads its session starts, not the event loop', async () => {
    const before = os.getPriority();
    const worker = new Worker(new URL('../../src/onnx/worker-entry.mjs', import.meta.url), {
      workerData: { script: new URL('../support/lowered-session-worker.ts', import.meta.url).href },
    });
    try {
      const lowered = await new Promise<boolean>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        setTimeout(() => reject(new Error('the worker did not answer in 30 s')), 30000).unref();
      });
      assert.equal(lowered, true);
      const lowerThreads = threadNiceness().filter((nice) => nice === before + 7).length;
      assert.ok(lowerThreads >= 2, `threads at nice ${before + 7}: ${lowerThreads} (the worker and ORT's)`);
      assert.equal(os.getPriority(), before, 'the event loop keeps its priority');
    } finally {
      worker.postMessage('exit');
      await new Promise((resolve) => worker.once('exit', resolve));
    }
  });
});
