/**
 * The jobs a model worker is running, so that it can stop cleanly. Terminating a worker while
 * onnxruntime-node is inside session.run can abort the whole process (a native exception with no JS
 * frame to catch it), so the pool asks the worker to stop instead: it cancels its jobs, waits for
 * the current session run to return, and only then exits.
 */
export class WorkerJobs {
  private readonly running = new Set<Promise<unknown>>();
  private stopRequested = false;

  /** `beforeExit`: what must end before the worker does (threads of its own, which exit would kill mid-run). */
  constructor(private readonly beforeExit?: () => Promise<void>) {}

  /** True once a shutdown was asked for: loops check it as they check their own cancel flag. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  run(job: () => Promise<unknown>): void {
    const promise = job().finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  /** Lets every running job reach its next cancellation check, then ends the worker. */
  async stop(exitCode = 0): Promise<never> {
    this.stopRequested = true;
    await Promise.allSettled([...this.running]);
    await this.beforeExit?.().catch(() => undefined);
    process.exit(exitCode);
  }
}
