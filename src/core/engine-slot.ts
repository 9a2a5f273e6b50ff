import type { AdmissionQueue } from './admission.ts';

/**
 * A request's engine slot while its stream runs. When the engine has finished a sentence but the
 * client has not taken it yet (a slow or stalled reader), the slot is given up after `graceMs`, so
 * that a client that stops reading cannot keep other requests from the engine; the request takes
 * a slot again, ahead of new requests, before its next sentence.
 */
export class EngineSlot {
  private release: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly admission: AdmissionQueue,
    release: () => void,
    private readonly graceMs: number,
  ) {
    this.release = release;
  }

  get held(): boolean {
    return this.release !== undefined;
  }

  /** Before more engine work: keeps the slot, or waits for one if it was given up. */
  async hold(signal: AbortSignal): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.release ??= await this.admission.resume(signal);
  }

  /** The engine is done with what was asked; gives the slot up unless the client catches up in time. */
  engineIdle(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.giveUp(), this.graceMs);
    this.timer.unref();
  }

  giveUp(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const release = this.release;
    this.release = undefined;
    release?.();
  }
}
