import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeWav } from '../../src/audio/wav.ts';
import { WavPieces } from '../../src/audio/wav-pieces.ts';
import { joinAudio } from '../support/speech-stream.ts';

describe('WavPieces', () => {
  it('is byte-for-byte encodeWav of the parts joined, across slice boundaries', async () => {
    const parts = [0, 1, 70000, 65536, 131073].map((length, index) =>
      Float32Array.from({ length }, (_, i) => Math.sin((i + index) / 7) * 1.2),
    );
    const wav = new WavPieces(24000);
    for (const part of parts) await wav.add(part);
    const joined = joinAudio(parts);
    const whole = Buffer.concat(wav.pieces());
    assert.equal(wav.byteLength, whole.length);
    assert.ok(whole.equals(encodeWav(joined, 24000)));
  });

  it('makes an empty file for no audio, as encodeWav does', () => {
    assert.ok(Buffer.concat(new WavPieces(16000).pieces()).equals(encodeWav(new Float32Array(0), 16000)));
  });
});
