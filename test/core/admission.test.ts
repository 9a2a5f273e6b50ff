import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdmissionQueue } from '../../src/core/admission.ts';
import { CancelledError, EngineOverloadedError } from '../../src/errors.ts';

describe('AdmissionQueue', () => {
  it('runs up to `concurrency` at once and queues the rest in order', async () => {
    const queue = new AdmissionQueue({ name: 'test', concurrency: 2, maxPending: 5 });
    const order: number[] = [];
    const releases = await Promise.all([queue.acquire(), queue.acquire()]);
    const waiting = [
      queue.acquire().then((release) => (order.push(3), release)),
      queue.acquire().then((release) => (order.push(4), release)),
    ];
    assert.deepEqual(queue.snapshot(), { active: 2, pending: 2, concurrency: 2, maxPending: 5 });
    releases[0]();
    releases[1]();
    const later = await Promise.all(waiting);
    assert.deepEqual(order, [3, 4]);
    later.forEach((release) => release());
    assert.equal(queue.snapshot().active, 0);
  });

  it('puts a resumed request ahead of new ones, after other resumed ones, and never refuses it', async () => {
    const queue = new AdmissionQueue({ name: 'test', concurrency: 1, maxPending: 1 });
    const order: string[] = [];
    const release = await queue.acquire();
    const newcomer = queue.acquire().then((next) => (order.push('new'), next));
    const first = queue.resume().then((next) => (order.push('resumed 1'), next));
    const second = queue.resume().then((next) => (order.push('resumed 2'), next));
    assert.equal(queue.snapshot().pending, 3, 'resumed requests pass the QUEUE_MAX_PENDING limit');
    release();
    (await first)();
    (await second)();
    (await newcomer)();
    assert.deepEqual(order, ['resumed 1', 'resumed 2', 'new']);
    assert.equal(queue.snapshot().active, 0);
  });

  it('refuses with EngineOverloadedError and a Retry-After when the queue is full', async () => {
    const queue = new AdmissionQueue({ name: 'test', concurrency: 1, maxPending: 1 });
    const release = await queue.acquire();
    const waiting = queue.acquire();
    await assert.rejects(queue.acquire(), (error: unknown) => {
      assert.ok(error instanceof EngineOverloadedError);
      assert.equal(error.statusCode, 503);
      assert.ok(error.retryAfterSeconds! >= 1);
      return true;
    });
    release();
    (await waiting)();
  });

  it('drops a waiting request whose client went away', async () => {
    const queue = new AdmissionQueue({ name: 'test', concurrency: 1, maxPending: 3 });
    const release = await queue.acquire();
    const controller = new AbortController();
    const waiting = queue.acquire(controller.signal);
    controller.abort();
    await assert.rejects(waiting, CancelledError);
    assert.equal(queue.snapshot().pending, 0);
    release();
    assert.equal(queue.snapshot().active, 0);
  });

  it('releases once even if release is called twice', async () => {
    const queue = new AdmissionQueue({ name: 'test', concurrency: 1, maxPending: 0 });
    const release = await queue.acquire();
    release();
    release();
    assert.equal(queue.snapshot().active, 0);
    (await queue.acquire())();
  });

  it('serves waiting clients in turn, so one client’s burst does not go first', async () => {
    const queue = new AdmissionQueue({ name: 'test', concurrency: 1, maxPending: 10 });
    const order: string[] = [];
    const release = await queue.acquire(undefined, 'burst');
    const waiting = ['burst 1', 'burst 2', 'burst 3'].map((name) =>
      queue.acquire(undefined, 'burst').then((next) => (order.push(name), next)),
    );
    const other = queue.acquire(undefined, 'other').then((next) => (order.push('other'), next));
    release();
    for (const next of [other, ...waiting]) (await next)();
    assert.deepEqual(order, ['other', 'burst 1', 'burst 2', 'burst 3']);
    assert.equal(queue.snapshot().active, 0);
  });

  it('gives a full queue’s newest place of the heaviest client to a client with none waiting', async () => {
    const queue = new AdmissionQueue({ name: 'test', concurrency: 1, maxPending: 3 });
    const release = await queue.acquire(undefined, 'attacker');
    const attackers = [1, 2, 3].map(() => queue.acquire(undefined, 'attacker'));
    const settled = attackers.map((waiting) =>
      waiting.then(
        () => 'served',
        (error: Error) => error,
      ),
    );
    const newcomer = queue.acquire(undefined, 'newcomer');
    const displaced = await settled[2];
    assert.ok(displaced instanceof EngineOverloadedError, 'the attacker’s newest request is refused');
    assert.match(displaced.message, /fewer requests waiting/);
    assert.equal(queue.snapshot().pending, 3);
    // The attacker cannot take the place back: it already has the most waiting.
    await assert.rejects(queue.acquire(undefined, 'attacker'), EngineOverloadedError);
    release();
    (await newcomer)();
    (await attackers[0])();
    (await attackers[1])();
    assert.equal(queue.snapshot().active, 0);
  });

  it('refuses rather than swapping places between clients with nearly as many waiting', async () => {
    const queue = new AdmissionQueue({ name: 'test', concurrency: 1, maxPending: 3 });
    const release = await queue.acquire(undefined, 'a');
    const waiting = [
      queue.acquire(undefined, 'a'),
      queue.acquire(undefined, 'a'),
      queue.acquire(undefined, 'b'),
    ];
    await assert.rejects(queue.acquire(undefined, 'b'), EngineOverloadedError);
    release();
    // b was never served, so it goes before a's second and third.
    for (const next of [waiting[2], waiting[0], waiting[1]]) (await next)();
  });

  it('tells each request its place on arrival and its turn, and the line serves them as told', async () => {
    const queue = new AdmissionQueue({ name: 'test', concurrency: 1, maxPending: 10 });
    const first = await queue.admit(undefined, 'a');
    assert.deepEqual(first.ticket, { position: 0, arrivalTurn: 0, turn: 1, waitedSeconds: 0 });
    // a was just served; b and c never were, so they come before a's next requests, in turn with them.
    const clients = ['a', 'a', 'b', 'b', 'c', 'a'];
    const served: { client: string; position: number; turn: number; arrivalTurn: number }[] = [];
    const admissions = clients.map((client) =>
      queue.admit(undefined, client).then(({ release, ticket }) => {
        served.push({ client, ...ticket });
        release();
      }),
    );
    // A resumed stream goes first but takes no turn, and moves nobody's place.
    const resumed = queue.resume();
    first.release();
    (await resumed)();
    await Promise.all(admissions);
    assert.ok(served.every((entry) => entry.arrivalTurn === 1));
    assert.deepEqual(
      served.map(({ client, position, turn }) => `${client} ${position} ${turn}`),
      // Round 1: b, c, a; round 2: b, a; round 3: a. a's first two were told places 1 and 2 on
      // arrival, before b and c (never served, so ahead of a, just served) arrived; the last, told 6th,
      // was served 6th.
      ['b 1 2', 'c 2 3', 'a 1 4', 'b 3 5', 'a 2 6', 'a 6 7'],
    );
    assert.equal(queue.snapshot().active, 0);
  });
});
