import type { QueueTicket } from '../core/admission.ts';

/**
 * The X-Reference-Warnings header: advice about the reference recording (clipping, noise, too little
 * speech), URI-encoded because header values must be ASCII, joined with " | ". Absent when there is none.
 */
export function referenceWarningsHeader(warnings: string[]): Record<string, string> {
  return warnings.length > 0 ? { 'X-Reference-Warnings': encodeURIComponent(warnings.join(' | ')) } : {};
}

/**
 * How the request waited for the engine: X-Queue-Position (0: a slot was free; n: n-th in line on
 * arrival), X-Queue-Wait (seconds) and X-Queue-Turns (`<turn counter on arrival>-<turn given>`). The
 * line is fair between clients, so requests that arrive later may go ahead, but only from clients
 * whose last turn was earlier; the turn numbers let a client check that.
 */
export function queueHeaders(ticket: QueueTicket): Record<string, string> {
  return {
    'X-Queue-Position': String(ticket.position),
    'X-Queue-Wait': ticket.waitedSeconds.toFixed(3),
    'X-Queue-Turns': `${ticket.arrivalTurn}-${ticket.turn}`,
  };
}

/** X-Cache: hit when the audio was replayed from an identical earlier request. */
export function cacheHeader(fromCache: boolean): Record<string, string> {
  return fromCache ? { 'X-Cache': 'hit' } : {};
}

/** X-Ignored: request settings the engine could not honour (NewAvata drops seed and x_vector_only_mode). */
export function ignoredHeader(ignored: string[]): Record<string, string> {
  return ignored.length > 0 ? { 'X-Ignored': ignored.join(', ') } : {};
}

/** X-Seed, only when the seed decided the result (an engine that cannot pass it on reports it in X-Ignored). */
export function seedHeader(seed: number, honoured: boolean): Record<string, string> {
  return honoured ? { 'X-Seed': String(seed) } : {};
}

/** X-Voice-Fallback: why the video speaks with another voice than the clone, when that was allowed. */
export function voiceFallbackHeader(reason: string | undefined): Record<string, string> {
  return reason ? { 'X-Voice-Fallback': encodeURIComponent(reason) } : {};
}
