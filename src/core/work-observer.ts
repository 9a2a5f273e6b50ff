/**
 * What the use cases report about finished work, for metrics. Core knows only this interface; the
 * Prometheus implementation lives outside it, and without one nothing is recorded.
 */
export interface WorkObserver {
  /** A request left an admission queue: admitted after `waitedSeconds`, or refused (full queue). */
  admission(queue: 'speech' | 'video', outcome: { waitedSeconds: number } | 'refused'): void;
  speechFinished(report: {
    model: string;
    outcome: WorkOutcome;
    /** From the request's arrival to its first audio; absent when no audio came. */
    firstAudioSeconds?: number;
    audioSeconds: number;
    /** Time spent generating (after admission and voice preparation). */
    generationSeconds: number;
  }): void;
  videoFinished(report: { engine: string; outcome: WorkOutcome; seconds: number }): void;
}

/** `cached`: replayed from an identical earlier request. `rejected`: the input was at fault (a 4xx, e.g. a photo without a face); `failed`: the server was. */
export type WorkOutcome = 'ok' | 'cached' | 'cancelled' | 'rejected' | 'failed';
