import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { startWorker } from './start-worker.ts';
import { CancelledError, EngineFailedError, EngineUnavailableError, ServerError } from '../errors.ts';

/** What a job hears from its worker: messages, or that the worker died under it. */
export interface JobListener<Response> {
  onMessage(message: Response): void;
  onCrash(error: Error): void;
}

interface PooledWorker<Response> {
  worker: Worker;
  busy: boolean;
  listeners: Map<number, JobListener<Response>>;
}

/**
 * A fixed number of model workers, each doing one job at a time. A worker that crashes fails the jobs
 * it had (a clear 5xx for those requests) and is replaced; the server stays up.
 */
export class WorkerPool<Response extends { type: string; jobId?: number }> {
  private readonly workers: PooledWorker<Response>[] = [];
  private readonly waiting: {
    resolve: (worker: PooledWorker<Response>) => void;
    reject: (error: Error) => void;
  }[] = [];
  private nextJobId = 1;
  private closed = false;

  constructor(
    private readonly options: {
      size: number;
      script: URL;
      /** How long close() lets a worker finish its current session run before terminating it. */
      stopGraceMs?: number;
      workerData: unknown;
      name: string;
      logger?: Logger;
    },
  ) {}

  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.size }, () => this.spawn()));
  }

  private spawn(): Promise<PooledWorker<Response>> {
    return new Promise((resolve, reject) => {
      const { script, workerData } = this.options;
      const worker = startWorker(script, workerData);
      const pooled: PooledWorker<Response> = { worker, busy: false, listeners: new Map() };
      let ready = false;
      worker.on(
        'message',
        (message: Response | { type: 'ready' } | { type: 'load-failed'; message: string }) => {
          if (message.type === 'ready') {
            ready = true;
            // A worker that finishes loading after close() (a restart under way) is stopped at once.
            if (this.closed) {
              void this.stopWorker(worker);
              return resolve(pooled);
            }
            this.workers.push(pooled);
            this.handOut(pooled);
            resolve(pooled);
            return;
          }
          if (message.type === 'load-failed') {
            reject(
              new Error(`${this.options.name} could not load: ${(message as { message: string }).message}`),
            );
            return;
          }
          const jobId = (message as Response).jobId;
          if (jobId !== undefined) pooled.listeners.get(jobId)?.onMessage(message as Response);
        },
      );
      const onDeath = (error: Error) => {
        if (!ready) return reject(error);
        const index = this.workers.indexOf(pooled);
        if (index >= 0) this.workers.splice(index, 1);
        for (const listener of pooled.listeners.values()) listener.onCrash(error);
        pooled.listeners.clear();
        if (this.closed) return;
        this.options.logger?.error({ err: error }, `${this.options.name} worker died; starting a new one`);
        this.spawn().catch((spawnError: unknown) =>
          this.options.logger?.error(
            { err: spawnError },
            `${this.options.name} worker could not be restarted`,
          ),
        );
      };
      worker.on('error', onDeath);
      worker.on('exit', (code) => {
        if (code !== 0 || !this.closed) onDeath(new Error(`worker exited with code ${code}`));
      });
    });
  }

  private handOut(worker: PooledWorker<Response>): void {
    const next = this.waiting.shift();
    if (next) {
      worker.busy = true;
      next.resolve(worker);
    }
  }

  private acquire(signal: AbortSignal): Promise<PooledWorker<Response>> {
    const idle = this.workers.find((worker) => !worker.busy);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    if (this.closed) return Promise.reject(shuttingDownError(this.options.name));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (worker: PooledWorker<Response>) => {
          signal.removeEventListener('abort', onAbort);
          resolve(worker);
        },
        reject: (error: Error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new CancelledError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /**
   * Runs one job on an idle worker: `send` posts the request with the job id; the listener gets the
   * worker's messages for that job. The returned `release` must be called when the job is over.
   */
  async job(
    signal: AbortSignal,
    send: (worker: Worker, jobId: number) => void,
    listener: JobListener<Response>,
  ): Promise<() => void> {
    const pooled = await this.acquire(signal);
    const jobId = this.nextJobId++;
    pooled.listeners.set(jobId, listener);
    send(pooled.worker, jobId);
    return () => {
      pooled.listeners.delete(jobId);
      pooled.busy = false;
      if (this.workers.includes(pooled)) this.handOut(pooled);
    };
  }

  /** Sends a message to every worker (used by tests to make one crash). */
  broadcast(message: unknown): void {
    for (const pooled of this.workers) pooled.worker.postMessage(message);
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Stops every worker without killing one inside a session run (which can abort the process): jobs
   * still running or waiting fail with a 503 at once, each worker is asked to stop after its current
   * run, and only one that does not within the grace period is terminated.
   */
  async close(): Promise<void> {
    this.closed = true;
    const error = shuttingDownError(this.options.name);
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    const workers = this.workers.splice(0);
    await Promise.all(
      workers.map((pooled) => {
        for (const listener of pooled.listeners.values()) listener.onCrash(error);
        pooled.listeners.clear();
        return this.stopWorker(pooled.worker);
      }),
    );
  }

  private async stopWorker(worker: Worker): Promise<void> {
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'shutdown' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.options.stopGraceMs ?? 30_000);
    });
    const outcome = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.options.logger?.warn(`${this.options.name} worker did not stop in time; terminating it`);
      await worker.terminate();
    }
  }
}

function shuttingDownError(name: string): EngineUnavailableError {
  return new EngineUnavailableError(`the server is shutting down; the ${name} engine takes no more work`, {
    retryAfterSeconds: 5,
  });
}

export function crashError(name: string, error: Error): ServerError {
  if (error instanceof ServerError) return error;
  return new EngineFailedError(
    `the ${name} worker crashed while working on this request (${error.message}); it was restarted, try again`,
    { cause: error },
  );
}
