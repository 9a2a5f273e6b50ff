import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';

/**
 * Stops the server in order, so that it always exits cleanly: stop accepting, let running requests
 * finish for `graceMs`, then close the engines, which fail the work still running with a 503 ("the
 * server is shutting down") that every stream reports as its `error` event, while their workers
 * finish the model step they are in (stopping a worker inside a model run aborts the process).
 * Connections still open `forceMs` later are cut.
 */
export async function shutDown(
  app: FastifyInstance,
  services: { close(): Promise<void> },
  options: { graceMs: number; forceMs: number },
): Promise<void> {
  let drained = false;
  // A connection whose response has just ended would otherwise stay open for its keep-alive time.
  const idleSweep = setInterval(() => app.server.closeIdleConnections(), 100);
  const draining = app.close().then(() => {
    drained = true;
  });
  await Promise.race([draining, sleep(options.graceMs, undefined, { ref: false })]);
  if (!drained)
    app.log.warn(`requests still running ${options.graceMs} ms after the shutdown began: ending them`);
  await services.close();
  await Promise.race([draining, sleep(options.forceMs, undefined, { ref: false })]);
  if (!drained) {
    app.log.warn('connections still open after the engines stopped: closing them');
    app.server.closeAllConnections();
    await draining;
  }
  clearInterval(idleSweep);
}
