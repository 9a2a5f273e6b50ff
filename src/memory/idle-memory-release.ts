/**
 * Gives memory back to the system once the server has been idle for a while after work: a burst of
 * requests grows the JavaScript heap and the allocator's arenas, and neither shrinks by itself while
 * nothing runs. Releasing costs a pause (a full collection, tens of ms), so it happens only when no
 * request is in flight, once per quiet spell.
 */
export class IdleMemoryRelease {
  private inFlight = 0;
  /** When the last work started or ended (read only once some has: see `settled`). */
  private lastActivityAt = 0;
  /** Nothing ran since the last release (or since start, which the warm-up already left settled). */
  private settled = true;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: {
      /** How long without a request before releasing. */
      idleMs: number;
      release: () => void;
      now?: () => number;
    },
  ) {}

  requestStarted(): void {
    this.inFlight += 1;
    this.settled = false;
    this.lastActivityAt = this.now();
  }

  requestEnded(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.lastActivityAt = this.now();
  }

  /** Releases if the server has been idle long enough since its last work; true when it did. */
  check(): boolean {
    if (this.settled || this.inFlight > 0) return false;
    if (this.now() - this.lastActivityAt < this.options.idleMs) return false;
    this.settled = true;
    this.options.release();
    return true;
  }

  /** Checks every so often (a quarter of the idle time, at least every second); never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), Math.max(1000, this.options.idleMs / 4));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private now(): number {
    return this.options.now?.() ?? performance.now();
  }
}
