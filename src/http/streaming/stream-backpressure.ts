import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Bytes a stream may hold for a client that reads slower than speech is made; beyond it, generation
 * waits for the client, and the request gives its engine slot to others meanwhile (EngineSlot). Kept
 * small so that a client that stops reading gets little engine time before it is noticed: 512 KB is
 * about 8 s of 24 kHz WAV in base64 (the operating system's socket buffers come on top).
 */
export const STREAM_BUFFER_BYTES = 512 << 10;

/** How a stream's unsent bytes are read and how a stalled client is let go. */
export interface StreamOutlet {
  /** Bytes written but not yet taken by the network. */
  buffered(): number;
  isOpen(): boolean;
  /** Disconnects the client: it reads nothing, so no message would reach it. */
  cut(): void;
}

/**
 * Returns at once while the stream holds at most STREAM_BUFFER_BYTES, otherwise when it does again,
 * so the generation behind the caller pauses. A client that takes nothing at all for `stallMs` is
 * cut off, which ends the stream and cancels its work. (Polled: neither `ws` nor a response reports
 * partial progress as an event.)
 */
export async function roomToSend(outlet: StreamOutlet, stallMs: number, signal?: AbortSignal): Promise<void> {
  let last = outlet.buffered();
  let movedAt = Date.now();
  while (outlet.isOpen() && outlet.buffered() > STREAM_BUFFER_BYTES) {
    const now = outlet.buffered();
    if (now < last) movedAt = Date.now();
    last = now;
    if (Date.now() - movedAt >= stallMs) return outlet.cut();
    await sleep(20, undefined, { signal }).catch(() => {});
    if (signal?.aborted) return;
  }
}

/** A Node response as a stream outlet. */
export function responseOutlet(raw: ServerResponse): StreamOutlet {
  return {
    buffered: () => raw.writableLength,
    isOpen: () => !raw.destroyed && !raw.writableEnded,
    cut: () => raw.destroy(),
  };
}
