import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The thread's code, plain JavaScript run with `eval` so that it needs no file of its own (the same in
 * the sources and the build). It parses with secure-json-parse, as Fastify's own parser does, with
 * Fastify's settings: a byte-order mark is dropped, a `__proto__` key anywhere is refused (prototype
 * poisoning), a `constructor` key is left alone. The library's path comes in workerData, since an
 * eval'd thread resolves modules from the working directory, not from here.
 */
const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const secureJson = require(workerData.secureJsonParse);
parentPort.on('message', ({ id, bytes }) => {
  try {
    const value = secureJson.parse(Buffer.from(bytes), undefined, {
      protoAction: 'error',
      constructorAction: 'ignore',
    });
    parentPort.postMessage({ id, value });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message) });
  }
});
`;

/**
 * Parses large JSON bodies on a thread of their own. JSON.parse of a body of a few MB (a long
 * transcript, base64 reference audio) takes the main thread 30–100 ms on a busy 2-core machine, and
 * every other request waits that long; on this thread it takes no turn of the server's loop. One
 * thread, started at the first large body, unreferenced (it never keeps the process alive), and
 * started again if it dies.
 */
export class JsonParseThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();

  /** The parsed value; a SyntaxError when it is not valid JSON or has a `__proto__` key. */
  parse(body: Buffer): Promise<unknown> {
    const worker = this.started();
    const id = this.nextId++;
    // Transferred, not copied, when the buffer is the whole of its memory (large bodies are).
    const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const bytes = whole ? body.buffer : body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, bytes }, [bytes as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(THREAD_CODE, {
      eval: true,
      workerData: { secureJsonParse: createRequire(import.meta.url).resolve('secure-json-parse') },
    });
    worker.unref();
    worker.on('message', ({ id, value, error }: { id: number; value?: unknown; error?: string }) => {
      const job = this.pending.get(id);
      this.pending.delete(id);
      if (error === undefined) job?.resolve(value);
      else job?.reject(new SyntaxError(error));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const job of this.pending.values()) job.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('the JSON parsing thread stopped')));
    this.worker = worker;
    return worker;
  }
}
