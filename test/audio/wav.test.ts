import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeWav, encodeWav } from '../../src/audio/wav.ts';
import { InvalidInputError } from '../../src/errors.ts';

/** Builds a WAV with the given encoding by hand, independent of encodeWav. */
function buildWav(options: {
  format: 1 | 3;
  bits: number;
  channels: number;
  sampleRate: number;
  frames: number[][];
}): Buffer {
  const bytesPerSample = options.bits / 8;
  const data = Buffer.alloc(options.frames.length * options.channels * bytesPerSample);
  options.frames.forEach((frame, index) => {
    frame.forEach((value, channel) => {
      const at = (index * options.channels + channel) * bytesPerSample;
      if (options.format === 3 && options.bits === 32) data.writeFloatLE(value, at);
      else if (options.format === 3) data.writeDoubleLE(value, at);
      else if (options.bits === 8) data[at] = Math.round(value * 127 + 128);
      else if (options.bits === 16) data.writeInt16LE(Math.round(value * 32767), at);
      else if (options.bits === 24) data.writeIntLE(Math.round(value * 8388607), at, 3);
      else data.writeInt32LE(Math.round(value * 2147483647), at);
    });
  });
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(options.format, 20);
  header.writeUInt16LE(options.channels, 22);
  header.writeUInt32LE(options.sampleRate, 24);
  header.writeUInt32LE(options.sampleRate * options.channels * bytesPerSample, 28);
  header.writeUInt16LE(options.channels * bytesPerSample, 32);
  header.writeUInt16LE(options.bits, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

describe('WAV', () => {
  it('round-trips 16-bit mono within quantisation error and clips out-of-range values', () => {
    const samples = Float32Array.from([0, 0.5, -0.5, 0.999, -1, 1.5, -2]);
    const decoded = decodeWav(encodeWav(samples, 24000));
    assert.equal(decoded.sampleRate, 24000);
    assert.equal(decoded.channels, 1);
    const expected = [0, 0.5, -0.5, 0.999, -1, 1, -1];
    decoded.samples.forEach((value, index) =>
      assert.ok(Math.abs(value - expected[index]) < 1e-4, `${index}`),
    );
  });

  const encodings: { name: string; format: 1 | 3; bits: number }[] = [
    { name: '8-bit PCM', format: 1, bits: 8 },
    { name: '16-bit PCM', format: 1, bits: 16 },
    { name: '24-bit PCM', format: 1, bits: 24 },
    { name: '32-bit PCM', format: 1, bits: 32 },
    { name: '32-bit float', format: 3, bits: 32 },
    { name: '64-bit float', format: 3, bits: 64 },
  ];
  for (const encoding of encodings) {
    it(`decodes ${encoding.name} stereo, mixing to mono`, () => {
      const wav = buildWav({
        ...encoding,
        channels: 2,
        sampleRate: 44100,
        frames: [
          [0.5, -0.5],
          [0.25, 0.75],
          [-1, -1],
        ],
      });
      const decoded = decodeWav(wav);
      assert.equal(decoded.sampleRate, 44100);
      assert.equal(decoded.channels, 2);
      const tolerance = encoding.bits === 8 ? 0.02 : 1e-4;
      [0, 0.5, -1].forEach((value, index) => assert.ok(Math.abs(decoded.samples[index] - value) < tolerance));
    });
  }

  const broken: [string, Buffer, RegExp][] = [
    ['not RIFF', Buffer.from('hello world, not a wav file'), /no RIFF\/WAVE header/],
    [
      'no fmt chunk',
      Buffer.concat([
        Buffer.from('RIFF\x10\x00\x00\x00WAVE', 'latin1'),
        Buffer.from('data\x00\x00\x00\x00', 'latin1'),
      ]),
      /before the fmt chunk/,
    ],
    [
      'an unsupported encoding',
      (() => {
        const wav = buildWav({ format: 1, bits: 16, channels: 1, sampleRate: 8000, frames: [[0]] });
        wav.writeUInt16LE(2, 20);
        return wav;
      })(),
      /unsupported encoding/,
    ],
    [
      'a silly sample rate',
      (() => {
        const wav = buildWav({ format: 1, bits: 16, channels: 1, sampleRate: 8000, frames: [[0]] });
        wav.writeUInt32LE(5, 24);
        return wav;
      })(),
      /sample rate/,
    ],
  ];
  for (const [name, bytes, message] of broken) {
    it(`rejects ${name} with a clear 4xx`, () => {
      assert.throws(
        () => decodeWav(bytes),
        (error: unknown) => {
          assert.ok(error instanceof InvalidInputError);
          assert.equal(error.statusCode, 422);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});
