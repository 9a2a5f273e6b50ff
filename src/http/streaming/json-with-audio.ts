import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Bytes turned into base64 per turn of the event loop: a multiple of 3, so that the pieces join into
 * one text, and small enough that each piece's string stays in V8's young generation (large strings
 * go straight to the old one, and only a full collection frees them).
 */
const BASE64_BYTES_PER_TURN = 3 << 14;

/** A body made of pieces that are sent one after another, never joined. */
export interface Pieces {
  pieces: Buffer[];
  byteLength: number;
}

/**
 * `JSON.stringify` of a value that holds audio files as base64 strings, without holding the event
 * loop: minutes of speech are tens of megabytes of base64, and encoding, escaping and copying them in
 * one call blocked every other request for a tenth of a second and more. `build` puts `audio(file)`
 * where a base64 string goes (the file as pieces, WavPieces); the rest is stringified as usual (it is
 * small), and each file's base64 is made a slice per turn of the loop. Base64 needs no escaping in
 * JSON, so the pieces, back to back, are byte-for-byte what `JSON.stringify` gives with the strings in
 * place.
 */
export async function jsonWithAudio(build: (audio: (file: Buffer[]) => string) => unknown): Promise<Pieces> {
  // A random marker cannot collide with anything a client sent.
  const marker = `\u0000${randomUUID()}\u0000`;
  const files: Buffer[][] = [];
  const text = JSON.stringify(
    build((file) => {
      files.push(file);
      return `${marker}${files.length - 1}`;
    }),
  );
  const pieces: Buffer[] = [];
  let rest = text;
  for (let index = 0; index < files.length; index += 1) {
    const placeholder = JSON.stringify(`${marker}${index}`);
    const at = rest.indexOf(placeholder);
    if (at < 0) throw new Error('jsonWithAudio: a file was made but not placed in the value');
    pieces.push(Buffer.from(`${rest.slice(0, at)}"`));
    await base64InSlices(files[index], pieces);
    pieces.push(Buffer.from('"'));
    rest = rest.slice(at + placeholder.length);
  }
  pieces.push(Buffer.from(rest));
  return { pieces, byteLength: pieces.reduce((sum, piece) => sum + piece.length, 0) };
}

/** The base64 of the file's pieces back to back, as pieces; the 1–2 bytes left over at a piece's end go on with the next. */
async function base64InSlices(file: Buffer[], out: Buffer[]): Promise<void> {
  let carry: Buffer = Buffer.alloc(0);
  for (const piece of file) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
    const usable = bytes.length - (bytes.length % 3);
    for (let start = 0; start < usable; start += BASE64_BYTES_PER_TURN) {
      out.push(
        Buffer.from(
          bytes.toString('base64', start, Math.min(usable, start + BASE64_BYTES_PER_TURN)),
          'latin1',
        ),
      );
      await nextTurn();
    }
    carry = bytes.subarray(usable);
  }
  if (carry.length > 0) out.push(Buffer.from(carry.toString('base64'), 'latin1'));
}
