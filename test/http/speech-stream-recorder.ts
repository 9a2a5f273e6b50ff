import type { WebSocket } from 'ws';

export type JsonMessage = { type: string; [key: string]: unknown };
export type BinaryMessage = { type: 'binary'; bytes: number; data: Buffer };
export type ServerMessage = JsonMessage | BinaryMessage;

const isBinaryMessage = (message: ServerMessage): message is BinaryMessage =>
  message.type === 'binary' && Buffer.isBuffer(message.data);

/** Records what the server sends on a speech stream, and lets a test wait (with a timeout) for it. */
export function record(socket: WebSocket) {
  const messages: ServerMessage[] = [];
  let closeCode: number | undefined;
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((wake) => wake());
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    messages.push(
      isBinary
        ? { type: 'binary', bytes: data.length, data: Buffer.from(data) }
        : (JSON.parse(String(data)) as JsonMessage),
    );
    notify();
  });
  socket.on('close', (code: number) => {
    closeCode = code;
    notify();
  });
  const until = async (done: () => boolean, what: string, timeoutMs = 10000) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages.map((m) => m.type))}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  const count = (type: string) => messages.filter((message) => message.type === type).length;
  return { messages, closeCode: () => closeCode, until, count };
}
export type Recording = ReturnType<typeof record>;

/** One sentence as a client reads it: audio.start, the binary frames, audio.done. */
export interface SpokenSentence {
  start: JsonMessage;
  audio: Buffer[];
  done: JsonMessage;
}

/** The replies, read as vLLM-Omni's client reads them; binary audio outside a sentence is an error. */
export function readReplies(messages: ServerMessage[]) {
  const sentences: SpokenSentence[] = [];
  const sessionDone: JsonMessage[] = [];
  const errors: JsonMessage[] = [];
  let open: { start: JsonMessage; audio: Buffer[] } | undefined;
  for (const message of messages) {
    if (isBinaryMessage(message)) {
      if (!open) throw new Error('binary audio outside audio.start … audio.done');
      open.audio.push(message.data);
    } else if (message.type === 'audio.start') {
      if (open) throw new Error('audio.start inside another sentence');
      open = { start: message, audio: [] };
    } else if (message.type === 'audio.done') {
      if (!open) throw new Error('audio.done without audio.start');
      sentences.push({ ...open, done: message });
      open = undefined;
    } else if (message.type === 'session.done') {
      if (open) throw new Error('session.done inside a sentence');
      sessionDone.push(message);
    } else if (message.type === 'error') errors.push(message);
  }
  return { sentences, sessionDone, errors };
}
