import { createHash } from 'node:crypto';
import type { SpeechEvent } from './speech-job.ts';

/**
 * Finished speech kept in memory, least recently used first out, within a byte budget. The same text,
 * voice, seed and settings give byte-identical audio, so a repeated request (an interview's fixed
 * questions) is answered from here at once instead of being generated again.
 */
export class SpeechResultCache {
  private readonly entries = new Map<string, { events: SpeechEvent[]; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  static key(parts: unknown): string {
    return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  }

  get(key: string): SpeechEvent[] | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.events;
  }

  set(key: string, events: SpeechEvent[]): void {
    const bytes = events.reduce(
      (sum, event) => sum + (event.type === 'audio' ? event.samples.byteLength : 64),
      0,
    );
    // One answer may take at most a quarter of the budget, so that one long text cannot empty it.
    if (bytes > this.maxBytes / 4 || this.entries.has(key)) return;
    this.entries.set(key, { events, bytes });
    this.bytes += bytes;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldestKey);
      this.bytes -= oldest.bytes;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
