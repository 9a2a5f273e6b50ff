import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonWithAudio } from '../../src/http/streaming/json-with-audio.ts';

const file = (lengths: number[], seed: number) =>
  lengths.map((length, index) =>
    Buffer.from(Array.from({ length }, (_, i) => (i * 31 + index * 7 + seed) % 256)),
  );

describe('jsonWithAudio', () => {
  it('gives what JSON.stringify gives with the base64 strings in place, whatever the pieces', async () => {
    const files = [file([44, 131072, 5, 1, 200000], 1), file([], 2), file([2], 3), file([49152, 49153], 4)];
    const value = (audio: (pieces: Buffer[]) => string) => ({
      success: true,
      message: 'text with "quotes", \\ and \u0000 and 한국어',
      audio_data: files.map(audio),
      nested: { first: audio(files[0]), after: [1, 2] },
    });
    const expected = JSON.stringify(value((pieces) => Buffer.concat(pieces).toString('base64')));
    const { pieces, byteLength } = await jsonWithAudio(value);
    const body = Buffer.concat(pieces);
    assert.equal(byteLength, body.length);
    assert.equal(body.toString(), expected);
  });
});
