import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRouteLag, measureLoopLag } from '../bench/loop/loop-lag-run.ts';
import { worstOutsideGcMs } from '../bench/loop/loop-report.ts';

/** The most a single turn of the loop may take of the server's own time while syntheses run (issue #11). */
const LIMIT_MS = 50;

/**
 * The event loop stays free while long syntheses run at once: the server runs in its own process (as
 * users run it, and so that this test runner's work does not count) on a tiny synthetic model and
 * answers six requests at once, one per route (whole WAV, JSON of base64 WAVs, SSE whole and
 * streamed, chunked HTTP, WebSocket), each about two minutes of audio. The whole-answer routes used to
 * turn all of it into WAV, base64 and JSON in one turn of the loop.
 *
 * What is asserted is the server's own work in each late turn of the loop: the lag less the time the
 * main thread sat in the run queue with no CPU free (Linux schedstat; on a 2-core machine that also
 * runs another test file, that wait reaches hundreds of milliseconds whatever the server does), and
 * less garbage collection's share. Collections are left out of the assertion, not out of the report:
 * on a busy machine a collection of the ~30 MB heap, whose helper threads wait for a CPU too, measured
 * 70 ms of the main thread's time (200 ms late); before the change the worst turn was 770 ms of the
 * server's own time (3.5 s late) on the same machine. The message shows both kinds of stall.
 */
describe('event loop under concurrent long syntheses', () => {
  it(`no turn of the loop takes ${LIMIT_MS} ms of the server's own work`, { timeout: 600_000 }, async (t) => {
    const lines: string[] = [];
    const results = await measureLoopLag(
      {
        size: 'tiny',
        dtype: 'float32',
        concurrent: 1,
        together: true,
        routes: ['wav', 'json', 'sse-whole', 'sse', 'http', 'ws'],
        frames: 800,
        sentences: 2,
        workers: 1,
        timeoutMs: 400_000,
      },
      (line) => lines.push(line),
    );
    const summary = lines.join('\n');
    // The figures, collections included, are printed when the test passes too.
    for (const result of results) t.diagnostic(describeRouteLag(result));
    for (const result of results)
      assert.ok(worstOutsideGcMs(result.report) < LIMIT_MS, `${describeRouteLag(result)}\n${summary}`);
  });
});
