import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A signal that aborts when the client goes away before the response is finished, or when the
 * request runs past its deadline. Node closes the response socket on disconnect; a finished
 * response also emits 'close', so we only abort when it was not finished.
 */
export function requestSignal(request: FastifyRequest, reply: FastifyReply, timeoutMs: number): AbortSignal {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
  });
  request.raw.on('aborted', () => controller.abort(new Error('client disconnected')));
  return AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)]);
}
