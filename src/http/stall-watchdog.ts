import { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';

/**
 * Ends a response whose client has taken nothing for `stallMs` while data waits to be sent. Piped
 * streams already pause their producer when the socket is full (bounded memory); this bounds how long
 * a client that stopped reading may hold the work and its engine slot.
 */
export function endWhenStalled(raw: ServerResponse, stallMs: number): void {
  if (!(raw.socket instanceof Socket)) return; // in-process responses (tests' inject) never drain
  let waitingSince: number | undefined;
  const timer = setInterval(
    () => {
      if (!raw.writableNeedDrain) {
        waitingSince = undefined;
        return;
      }
      waitingSince ??= Date.now();
      if (Date.now() - waitingSince >= stallMs) raw.destroy();
    },
    Math.max(50, Math.floor(stallMs / 10)),
  );
  timer.unref();
  raw.once('close', () => clearInterval(timer));
}
