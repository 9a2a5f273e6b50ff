import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { collectGarbage } from '../../src/memory/garbage-collection.ts';
import { nativeHeapTrim } from '../../src/memory/native-heap.ts';
import { releaseMemoryWhenIdle } from '../../src/memory/release-when-idle.ts';
import { eventually } from '../helper.ts';

describe('releasing memory when the server is idle', () => {
  let server: Server;
  let base: string;
  let releases = 0;
  let watcher: ReturnType<typeof releaseMemoryWhenIdle>;
  before(async () => {
    server = createServer((request, response) => {
      // A slow answer to POST /slow, so the test can see that running work holds the release back.
      const delayMs = request.url === '/slow' ? 1500 : 0;
      setTimeout(() => response.end('ok'), delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    watcher = releaseMemoryWhenIdle(server, 300, pino({ level: 'silent' }), () => (releases += 1));
  });
  after(async () => {
    watcher.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  it('does not count probes and pages (GET) as work', async () => {
    await (await fetch(`${base}/health`)).text();
    await sleep(1300);
    assert.equal(releases, 0);
  });

  it('releases after work, once the idle time has passed with nothing running', async () => {
    const slow = fetch(`${base}/slow`, { method: 'POST' });
    await sleep(1100);
    assert.equal(releases, 0, 'not while a request runs');
    await (await slow).text();
    await eventually(
      () => releases,
      (count) => count === 1,
      5000,
    );
    await sleep(1300);
    assert.equal(releases, 1, 'once per quiet spell');
  });
});

describe('what a release does', () => {
  it('collects the garbage of this thread', async () => {
    // Nothing but the WeakRef refers to the object once this returns.
    const reference = ((garbage: object) => new WeakRef(garbage))({ payload: new Array(1000).fill('x') });
    await sleep(0); // a WeakRef holds its target until the end of the current job
    collectGarbage();
    assert.equal(reference.deref(), undefined);
  });

  it('trims glibc arenas where glibc is the allocator', (context) => {
    const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    const trim = nativeHeapTrim();
    if (!header?.glibcVersionRuntime) {
      assert.equal(trim, undefined, 'nothing to trim without glibc');
      context.skip('not glibc');
      return;
    }
    assert.ok(trim, 'koffi loads malloc_trim from libc.so.6');
    trim();
  });
});
