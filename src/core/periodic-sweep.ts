/**
 * Runs a sweep of expired files at once and then every so often (every `keepSeconds`, at most once a
 * minute), so that they do not wait for the next write to go; it never keeps the process alive.
 */
export class PeriodicSweep {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sweep: () => Promise<unknown>,
    private readonly keepSeconds: number,
  ) {}

  start(): void {
    if (this.timer) return;
    const everyMs = Math.min(60, Math.max(1, this.keepSeconds)) * 1000;
    this.timer = setInterval(() => void this.sweep(), everyMs);
    this.timer.unref();
    void this.sweep();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
