import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from '@fastify/websocket';

/** Audio the server lets wait in a WebSocket's send buffer before it stops generating. */
export const WEBSOCKET_HIGH_WATER_BYTES = 256 * 1024;

/**
 * Back-pressure for a WebSocket: returns at once while the client keeps up, otherwise when its send
 * buffer has fallen under the high-water mark, so a slow reader pauses the generation behind the
 * caller instead of filling memory. `ws` has no drain event, hence the polling. A client that takes
 * nothing for `stallMs` is disconnected (it reads nothing, so no message would reach it), which ends
 * the session and cancels its work.
 */
export async function websocketReady(socket: WebSocket, stallMs: number, signal: AbortSignal): Promise<void> {
  let lastAmount = socket.bufferedAmount;
  let lastProgressAt = Date.now();
  while (socket.readyState === socket.OPEN && socket.bufferedAmount > WEBSOCKET_HIGH_WATER_BYTES) {
    if (socket.bufferedAmount < lastAmount) lastProgressAt = Date.now();
    lastAmount = socket.bufferedAmount;
    if (Date.now() - lastProgressAt >= stallMs) {
      socket.terminate();
      return;
    }
    await sleep(25, undefined, { signal }).catch(() => {});
    if (signal.aborted) return;
  }
}
