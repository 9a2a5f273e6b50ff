import type { FastifyReply } from 'fastify';
import { responseOutlet, roomToSend } from './stream-backpressure.ts';

/**
 * A Server-Sent Events writer over a hijacked reply. It sends headers once, writes `event:`/`data:`
 * frames, keeps idle proxies from closing the stream with comment heartbeats, and reports whether the
 * client is still there so that producers can stop.
 */
export class SseWriter {
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly reply: FastifyReply,
    headers: Record<string, string>,
    heartbeatMs = 15000,
  ) {
    reply.hijack();
    reply.raw.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      // nginx buffers responses unless told not to; buffering would defeat streaming.
      'X-Accel-Buffering': 'no',
      ...headers,
    });
    reply.raw.flushHeaders?.();
    this.heartbeat = setInterval(() => this.writeRaw(': keep-alive\n\n'), heartbeatMs);
    this.heartbeat.unref();
    reply.raw.on('close', () => this.stop());
  }

  get isOpen(): boolean {
    return !this.closed && !this.reply.raw.destroyed;
  }

  send(event: string, data: unknown): void {
    this.writeRaw(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /**
   * An event whose data is JSON encoded already, as pieces of bytes (jsonWithAudio: large audio is
   * encoded a slice at a time rather than in one JSON.stringify).
   */
  sendJson(event: string, json: Buffer[]): void {
    if (!this.isOpen) return;
    const raw = this.reply.raw;
    // The pieces go out as they are (one writev), not copied into one buffer first.
    raw.cork();
    raw.write(`event: ${event}\ndata: `);
    for (const piece of json) raw.write(piece);
    raw.write('\n\n');
    raw.uncork();
  }

  /** A frame with no event name (OpenAI's style: the JSON names its own `type`). */
  sendData(data: unknown): void {
    this.writeRaw(`data: ${JSON.stringify(data)}\n\n`);
  }

  /**
   * Back-pressure: resolves at once while the client keeps up (or is at most STREAM_BUFFER_BYTES
   * behind), otherwise when it has caught up, so the generation behind the caller waits for a slow
   * reader instead of filling memory. A client that takes nothing for `stallMs` is cut off, which
   * cancels the work.
   */
  ready(stallMs: number): Promise<void> {
    return roomToSend(responseOutlet(this.reply.raw), stallMs);
  }

  end(): void {
    if (!this.closed) this.reply.raw.end();
    this.stop();
  }

  private writeRaw(text: string): void {
    if (this.isOpen) this.reply.raw.write(text);
  }

  private stop(): void {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

/** The CORS headers must be copied by hand onto hijacked replies (no onSend hooks run). */
export function corsHeadersFor(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of [
    'access-control-allow-origin',
    'access-control-allow-credentials',
    'access-control-expose-headers',
    'vary',
    'x-request-id',
  ]) {
    const value = reply.getHeader(name);
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}
