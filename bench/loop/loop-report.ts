/** One late turn of the server's event loop, as loop-monitor.mjs saw it. */
export interface LoopStall {
  /** When it began, seconds into the window. */
  atSeconds: number;
  /** How much later than due the loop came back. */
  lagMs: number;
  /** Of that, time the main thread was ready but had no CPU (other processes, or the model threads). */
  waitingForCpuMs: number;
  /** The rest: work on the loop (JavaScript, garbage collection, synchronous calls). */
  ownMs: number;
  /** Garbage collection pauses within the stall. */
  gcMs: number;
  /** Their kinds (minor: the young generation; major: a full mark-compact). */
  gcKinds: string[];
  /** `ownMs` less garbage collection's share of it: work done by the server's code. */
  outsideGcMs: number;
}

/** What loop-monitor.mjs saw between two SIGUSR2 signals. */
export interface LoopReport {
  sequence: number;
  seconds: number;
  /** The run queue's share could be told apart (Linux); elsewhere `ownMs` is all of the lag. */
  schedstat: boolean;
  /** perf_hooks.monitorEventLoopDelay over the window, ms. */
  p99Ms: number;
  maxMs: number;
  /** The worst stalls by `outsideGcMs`, then `ownMs`, longest first. */
  stalls: LoopStall[];
}

export function worstOwnMs(report: LoopReport): number {
  return Math.max(0, ...report.stalls.map((stall) => stall.ownMs));
}

export function worstOutsideGcMs(report: LoopReport): number {
  return Math.max(0, ...report.stalls.map((stall) => stall.outsideGcMs));
}

export function describeStall(stall: LoopStall): string {
  return (
    `${stall.lagMs.toFixed(0)} ms late at ${stall.atSeconds.toFixed(1)} s: ${stall.ownMs.toFixed(0)} ms on the loop, ` +
    `${stall.outsideGcMs.toFixed(0)} ms outside garbage collection ` +
    `(${stall.gcMs.toFixed(0)} ms of it garbage collection${stall.gcKinds.length > 0 ? `, ${stall.gcKinds.join(' and ')}` : ''}), ${stall.waitingForCpuMs.toFixed(0)} ms waiting for a CPU`
  );
}
