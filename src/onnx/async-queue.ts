import { CancelledError } from '../errors.ts';

/** Messages from a worker, read in order by one consumer; a failure is delivered after what came before. */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private waiter: { resolve: (value: T) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  push(item: T): void {
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve(item);
    } else this.items.push(item);
  }

  fail(error: Error): void {
    this.failure = error;
    if (this.waiter) {
      const { reject } = this.waiter;
      this.waiter = undefined;
      reject(error);
    }
  }

  next(signal?: AbortSignal): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.failure) return Promise.reject(this.failure);
    if (signal?.aborted) return Promise.reject(new CancelledError());
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiter = undefined;
        reject(new CancelledError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
    });
  }

  /** Discards messages until one matches (or the time runs out), e.g. a cancelled job's final `end`. */
  async drainUntil(done: (item: T) => boolean, timeoutMs: number): Promise<void> {
    const deadline = AbortSignal.timeout(timeoutMs);
    for (;;) if (done(await this.next(deadline))) return;
  }
}
