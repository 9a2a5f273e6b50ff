import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printReport, runAbuseSuite } from '../bench/abuse/suite.ts';

/**
 * The short version of `npm run bench -- abuse` (see the README for the long one's figures): a
 * few of each hostile client against the server in its own process, then SIGTERM mid-stream. It
 * asserts what must hold on any machine (nothing hangs, every abuse is refused, every client is told,
 * the queue serves in the order it promises, memory stays bounded, exit 0) and leaves latency
 * figures to the long run.
 */
describe('load and abuse (short)', () => {
  it('holds: well-behaved clients are served, abusers refused, stalled readers cut off, shutdown clean', async () => {
    const lines: string[] = [];
    const report = await runAbuseSuite(
      {
        seconds: 5,
        normal: 4,
        stalledReaders: 2,
        leavers: 2,
        idleSessions: 3,
        settleSeconds: 1,
        stallSeconds: 2,
        streamsAtShutdown: 3,
      },
      (line) => lines.push(line),
    );
    printReport(report, (line) => lines.push(line));
    const summary = lines.join('\n');
    const { outcomes } = report;

    const normal = outcomes.of('normal');
    assert.ok((normal.complete ?? 0) > 0, summary);
    for (const outcome of Object.keys(normal))
      assert.ok(['complete', '503 + Retry-After'].includes(outcome), `normal client: ${outcome}\n${summary}`);
    for (const kind of outcomes.kinds().filter((kind) => kind.startsWith('abuse: ')))
      for (const outcome of Object.keys(outcomes.of(kind)))
        assert.match(outcome, /as expected/, `${kind}: ${outcome}\n${summary}`);
    for (const outcome of Object.keys(outcomes.of('stalled reader')))
      assert.ok(['cut off', 'HTTP 503'].includes(outcome), `stalled reader: ${outcome}\n${summary}`);
    for (const outcome of Object.keys(outcomes.of('leaver')))
      assert.ok(
        ['left after the first audio', 'HTTP 503'].includes(outcome),
        `leaver: ${outcome}\n${summary}`,
      );
    assert.deepEqual(Object.keys(outcomes.of('websocket: too much text')), ['closed 1008'], summary);
    assert.deepEqual(Object.keys(outcomes.of('websocket: 2 MB message')), ['closed 1009'], summary);
    assert.deepEqual(Object.keys(outcomes.of('websocket: idle')), ['closed 1008'], summary);

    // The fair line's promise: no client whose last turn was more recent went ahead of a waiting request.
    assert.ok(report.queue.checked > 0, summary);
    assert.deepEqual(report.queue.violations, [], summary);

    assert.equal(report.health.failed, 0, summary);
    assert.ok(report.voiceCache.bytes <= report.voiceCache.limitBytes, summary);
    const { idle, peak } = report.memoryMb;
    if (idle !== undefined && peak !== undefined) assert.ok(peak - idle < 300, summary);
    assert.equal(report.shutdown.code, 0, summary);
    assert.equal(report.shutdown.untold, 0, summary);
  });
});
