import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdleMemoryRelease } from '../../src/memory/idle-memory-release.ts';

describe('IdleMemoryRelease', () => {
  function watcher() {
    const clock = { now: 0 };
    let releases = 0;
    const release = new IdleMemoryRelease({
      idleMs: 10_000,
      release: () => (releases += 1),
      now: () => clock.now,
    });
    return { release, clock, releases: () => releases };
  }

  it('releases once, idleMs after the last work ended', () => {
    const { release, clock, releases } = watcher();
    assert.equal(release.check(), false, 'nothing ran since start');
    release.requestStarted();
    clock.now = 5_000;
    release.requestEnded();
    clock.now = 14_999;
    assert.equal(release.check(), false, 'not idle long enough');
    clock.now = 15_000;
    assert.equal(release.check(), true);
    clock.now = 60_000;
    assert.equal(release.check(), false, 'no work since the release');
    assert.equal(releases(), 1);
  });

  it('never while work runs, however long', () => {
    const { release, clock, releases } = watcher();
    release.requestStarted();
    release.requestStarted();
    release.requestEnded();
    clock.now = 100_000;
    assert.equal(release.check(), false, 'one request still runs');
    release.requestEnded();
    clock.now = 109_000;
    assert.equal(release.check(), false);
    clock.now = 110_000;
    assert.equal(release.check(), true);
    assert.equal(releases(), 1);
  });

  it('again after new work', () => {
    const { release, clock, releases } = watcher();
    release.requestStarted();
    release.requestEnded();
    clock.now = 10_000;
    release.check();
    release.requestStarted();
    clock.now = 11_000;
    release.requestEnded();
    clock.now = 21_000;
    assert.equal(release.check(), true);
    assert.equal(releases(), 2);
  });
});
