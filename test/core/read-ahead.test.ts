import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readAhead } from '../../src/core/read-ahead.ts';

async function* numbers(count: number, signal: AbortSignal, seen: number[]): AsyncGenerator<number> {
  for (let index = 0; index < count; index += 1) {
    if (signal.aborted) throw new Error('aborted');
    seen.push(index);
    yield index;
    await sleep(1);
  }
}

describe('readAhead', () => {
  it('reads the source to its end without waiting for the consumer, and says when it ended', async () => {
    const seen: number[] = [];
    let ended = false;
    const reader = readAhead(
      (signal) => numbers(5, signal, seen),
      new AbortController().signal,
      () => (ended = true),
    );
    assert.equal((await reader.next()).value, 0);
    await sleep(50);
    assert.deepEqual(seen, [0, 1, 2, 3, 4], 'the source ran ahead of a consumer that stopped pulling');
    assert.equal(ended, true);
    const rest: number[] = [];
    for await (const value of reader) rest.push(value);
    assert.deepEqual(rest, [1, 2, 3, 4], 'nothing is lost or reordered');
  });

  it('delivers a failure after what came before it', async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw new Error('engine broke');
    }
    const got: number[] = [];
    await assert.rejects(async () => {
      for await (const value of readAhead(
        () => failing(),
        new AbortController().signal,
        () => {},
      ))
        got.push(value);
    }, /engine broke/);
    assert.deepEqual(got, [1]);
  });

  it('stops the source when the consumer leaves early', async () => {
    const seen: number[] = [];
    let sourceSignal: AbortSignal | undefined;
    const reader = readAhead(
      (signal) => {
        sourceSignal = signal;
        return numbers(1000, signal, seen);
      },
      new AbortController().signal,
      () => {},
    );
    await reader.next();
    await reader.return(undefined);
    assert.equal(sourceSignal?.aborted, true);
    assert.ok(seen.length < 1000);
  });
});
