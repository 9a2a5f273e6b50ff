import { CancelledError, EngineOverloadedError } from '../errors.ts';
import { FairWaitingLine, type WaitingRequest } from './fair-waiting-line.ts';

export interface AdmissionOptions {
  /** Requests worked on at once. */
  concurrency: number;
  /** Requests that may wait; one more is refused with 503 + Retry-After instead of piling up. */
  maxPending: number;
  /** Names the engine in the overload message. */
  name: string;
  /** Seconds suggested to a refused client when no better estimate exists. */
  retryAfterSeconds?: number;
  /** Told how long each admitted request waited, and of each refusal (for metrics). */
  onOutcome?: (outcome: { waitedSeconds: number } | 'refused') => void;
}

export interface AdmissionSnapshot {
  active: number;
  pending: number;
  concurrency: number;
  maxPending: number;
}

/**
 * What a request's wait for its slot was: told to its client (X-Queue-* headers), so that a client
 * (or the load-and-abuse suite) can check that the line served it fairly.
 */
export interface QueueTicket {
  /** Where it stood on arrival: 0 when a slot was free, else its place among new requests (1 = next). */
  position: number;
  /** The turn counter on arrival: turns are counted for new requests given a slot, resumed streams aside. */
  arrivalTurn: number;
  /** The turn it was given; the turns between went to other clients' requests. */
  turn: number;
  waitedSeconds: number;
}

export interface Admission {
  /** Must be called exactly once when the work ends. */
  release: () => void;
  ticket: QueueTicket;
}

interface Waiter extends WaitingRequest {
  resolve: (release: () => void) => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * A bounded admission queue per engine. Work beyond `concurrency` waits, served fairly between
 * clients (FairWaitingLine); beyond `maxPending` waiting requests the answer is an immediate
 * EngineOverloadedError (503 + Retry-After), so a burst never becomes an unbounded pile-up or an
 * out-of-memory crash — unless the newcomer's client has far fewer requests waiting than another,
 * whose newest request is then refused instead. A waiting request whose client goes away leaves
 * the queue at once.
 */
export class AdmissionQueue {
  private active = 0;
  private readonly waiters = new FairWaitingLine<Waiter>();
  private readonly recentDurationsMs: number[] = [];

  constructor(private readonly options: AdmissionOptions) {}

  snapshot(): AdmissionSnapshot {
    return {
      active: this.active,
      pending: this.waiters.length,
      concurrency: this.options.concurrency,
      maxPending: this.options.maxPending,
    };
  }

  /**
   * Waits for a slot; the returned function must be called exactly once when the work ends.
   * `client` names who asked (their address), for fairness between clients.
   */
  acquire(signal?: AbortSignal, client = ''): Promise<() => void> {
    return this.admit(signal, client).then((admission) => admission.release);
  }

  /** As acquire, and also says how the request waited (its QueueTicket). */
  admit(signal?: AbortSignal, client = ''): Promise<Admission> {
    if (signal?.aborted) return Promise.reject(new CancelledError());
    if (this.active < this.options.concurrency) {
      this.active += 1;
      const arrivalTurn = this.waiters.turn;
      this.waiters.markServed(client);
      this.options.onOutcome?.({ waitedSeconds: 0 });
      return Promise.resolve({
        release: this.releaser(),
        ticket: { position: 0, arrivalTurn, turn: this.waiters.turn, waitedSeconds: 0 },
      });
    }
    if (this.waiters.length >= this.options.maxPending) {
      const displaced = this.waiters.displaceableFor(client);
      if (!displaced) {
        this.options.onOutcome?.('refused');
        return Promise.reject(this.overloaded());
      }
      this.waiters.remove(displaced);
      displaced.signal?.removeEventListener('abort', displaced.onAbort);
      this.options.onOutcome?.('refused');
      displaced.reject(
        this.overloaded(
          'Its place in the queue went to a request from a client with fewer requests waiting.',
        ),
      );
    }
    return this.wait(signal, 'behind', client);
  }

  private overloaded(why = ''): EngineOverloadedError {
    return new EngineOverloadedError(
      `${this.options.name} is busy: ${this.active} request(s) running and ${this.waiters.length} waiting ` +
        `(QUEUE_MAX_PENDING=${this.options.maxPending}). ${why ? `${why} ` : ''}Retry after the suggested delay.`,
      this.suggestedRetryAfterSeconds(),
    );
  }

  /**
   * A slot for a request that gave its own up while its client was behind (see EngineSlot): it
   * waits ahead of new requests and is never refused, as its stream has already begun.
   */
  resume(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new CancelledError());
    if (this.active < this.options.concurrency) {
      this.active += 1;
      return Promise.resolve(this.releaser());
    }
    return this.wait(signal, 'ahead').then((admission) => admission.release);
  }

  private wait(signal: AbortSignal | undefined, place: 'ahead' | 'behind', client = ''): Promise<Admission> {
    const queuedAt = performance.now();
    const arrivalTurn = this.waiters.turn;
    return new Promise((resolve, reject) => {
      let position = 0;
      const waiter: Waiter = {
        resolve: (release) => {
          const waitedSeconds = (performance.now() - queuedAt) / 1000;
          if (place === 'behind') this.options.onOutcome?.({ waitedSeconds });
          // Read now, as the slot is handed over: the line's next turn may follow before `then` runs.
          resolve({ release, ticket: { position, arrivalTurn, turn: this.waiters.turn, waitedSeconds } });
        },
        reject,
        signal,
        client,
        ahead: place === 'ahead',
        onAbort: () => {
          this.waiters.remove(waiter);
          reject(new CancelledError('the request was cancelled while waiting for the engine'));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.add(waiter);
      position = this.waiters.placeOf(waiter);
    });
  }

  /** Runs `work` inside a slot. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal, client?: string): Promise<T> {
    const release = await this.acquire(signal, client);
    try {
      return await work();
    } finally {
      release();
    }
  }

  private releaser(): () => void {
    const startedAt = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.recordDuration(performance.now() - startedAt);
      const next = this.waiters.next();
      if (next) {
        next.signal?.removeEventListener('abort', next.onAbort);
        next.resolve(this.releaser());
      } else {
        this.active -= 1;
      }
    };
  }

  private recordDuration(milliseconds: number): void {
    this.recentDurationsMs.push(milliseconds);
    if (this.recentDurationsMs.length > 20) this.recentDurationsMs.shift();
  }

  /** Time until a queue slot is likely free: the queue ahead times the recent average work time. */
  private suggestedRetryAfterSeconds(): number {
    const fallback = this.options.retryAfterSeconds ?? 5;
    if (this.recentDurationsMs.length === 0) return fallback;
    const averageMs =
      this.recentDurationsMs.reduce((sum, value) => sum + value, 0) / this.recentDurationsMs.length;
    const ahead = (this.waiters.length + 1) / this.options.concurrency;
    return Math.max(1, Math.min(300, Math.ceil((averageMs * ahead) / 1000)));
  }
}
