import type { QueueRecord } from './queue-check.ts';

/** What happened to each kind of client: outcome counts, and durations to summarise. */
export class Outcomes {
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly durations = new Map<string, number[]>();
  /** What the server told each admitted request about its wait (see queue-check.ts). */
  readonly queue: QueueRecord[] = [];

  /** Keeps a response's queue record, if it has one. */
  addQueue(record: QueueRecord | undefined): void {
    if (record) this.queue.push(record);
  }

  add(kind: string, outcome: string, seconds?: number): void {
    const outcomes = this.counts.get(kind) ?? new Map<string, number>();
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    this.counts.set(kind, outcomes);
    if (seconds !== undefined) {
      const key = `${kind}: ${outcome}`;
      const values = this.durations.get(key) ?? [];
      values.push(seconds);
      this.durations.set(key, values);
    }
  }

  of(kind: string): Record<string, number> {
    return Object.fromEntries(this.counts.get(kind) ?? []);
  }

  kinds(): string[] {
    return [...this.counts.keys()];
  }

  /** Seconds for one kind and outcome: median and worst. */
  timing(kind: string, outcome: string): { median: number; max: number } | undefined {
    const values = this.durations.get(`${kind}: ${outcome}`);
    if (!values || values.length === 0) return undefined;
    return { median: percentile(values, 0.5), max: Math.max(...values) };
  }
}

export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
