import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { pcm16 } from '../../src/audio/wav.ts';
import { ffmpegPath } from '../../src/media/ffmpeg.ts';
import { encodeSpeechStream, type SpeechFormat } from '../../src/media/speech-encoder.ts';

const RATE = 24000;
/** Longest any single encoder run or ffmpeg decode may take before the test gives up. */
const TIMEOUT_MS = 30000;

/**
 * Three seconds that start at full level on their first sample (a chirp under low-passed noise from
 * a fixed seed): a lost opening frame or a shifted start cannot hide in silence, and the chirp plus
 * noise give cross-correlation one sharp peak.
 */
function testSignal(seconds = 3): Float32Array {
  const samples = new Float32Array(seconds * RATE);
  let seed = 12345;
  let noise = 0;
  for (let index = 0; index < samples.length; index += 1) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    noise = 0.7 * noise + 0.3 * (seed / 1073741824 - 1);
    const time = index / RATE;
    const phase = 2 * Math.PI * (200 * time + 250 * time * time);
    samples[index] = 0.5 * Math.sin(phase + 1) + 0.3 * noise;
  }
  return samples;
}

/** The same samples cut the ways a caller might hand them over. */
const CHUNKINGS: Record<string, (samples: Float32Array) => Float32Array[]> = {
  'one chunk': (samples) => [samples],
  // 80 ms per chunk, what the speech engine yields per codec frame.
  '1920-sample chunks': (samples) => cut(samples, [1920]),
  // Sizes that never line up with ffmpeg's 40 ms input packets or any encoder frame.
  'irregular chunks': (samples) => cut(samples, [1, 7, 333, 1920, 4801, 50, 960]),
};

function cut(samples: Float32Array, sizes: number[]): Float32Array[] {
  const chunks: Float32Array[] = [];
  for (let start = 0, turn = 0; start < samples.length; turn += 1) {
    const end = Math.min(samples.length, start + sizes[turn % sizes.length]);
    chunks.push(samples.subarray(start, end));
    start = end;
  }
  return chunks;
}

/** Hands the chunks over one event-loop turn apart, as a generating stream does. */
async function* streamOf(chunks: Float32Array[]): AsyncGenerator<Float32Array> {
  for (const chunk of chunks) {
    await nextTurn();
    yield chunk;
  }
}

async function encode(chunks: Float32Array[], format: SpeechFormat): Promise<Buffer> {
  const parts: Buffer[] = [];
  const signal = AbortSignal.timeout(TIMEOUT_MS);
  for await (const part of encodeSpeechStream(streamOf(chunks), format, RATE, signal)) parts.push(part);
  return Buffer.concat(parts);
}

/** Decodes with the project's own ffmpeg to 24 kHz mono 16-bit, honouring the container's trimming. */
function decode(bytes: Buffer): Int16Array {
  const result = spawnSync(
    ffmpegPath(),
    ['-v', 'error', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', String(RATE), 'pipe:1'],
    { input: bytes, maxBuffer: 64 << 20, timeout: TIMEOUT_MS },
  );
  assert.equal(result.status, 0, result.stderr.toString());
  const out = result.stdout;
  return new Int16Array(out.buffer, out.byteOffset, out.length / 2).slice();
}

function int16Of(samples: Float32Array): Int16Array {
  const bytes = pcm16(samples);
  return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
}

/** The shift (within ±maxLag) at which `actual[from + lag …]` best matches `expected[from …]`, normalised. */
function bestLag(
  expected: Int16Array,
  actual: Int16Array,
  from: number,
  length: number,
  maxLag: number,
): { lag: number; correlation: number } {
  let best = { lag: 0, correlation: -Infinity };
  for (let lag = -maxLag; lag <= maxLag; lag += 1) {
    let dot = 0;
    let energyExpected = 0;
    let energyActual = 0;
    for (let index = from; index < from + length; index += 1) {
      const a = expected[index];
      const b = actual[index + lag] ?? 0;
      dot += a * b;
      energyExpected += a * a;
      energyActual += b * b;
    }
    const correlation = dot / Math.sqrt(energyExpected * energyActual || 1);
    if (correlation > best.correlation) best = { lag, correlation };
  }
  return best;
}

describe('speech encoding keeps every sample', () => {
  const signal = testSignal();
  const expected = int16Of(signal);

  for (const [name, chunking] of Object.entries(CHUNKINGS)) {
    it(`flac decodes to exactly the PCM it was given (${name})`, async () => {
      const decoded = decode(await encode(chunking(signal), 'flac'));
      assert.equal(decoded.length, expected.length, 'flac is lossless: the sample count must match');
      const firstDifference = decoded.findIndex((value, index) => value !== expected[index]);
      assert.equal(firstDifference, -1, `sample ${firstDifference} differs`);
    });

    it(`opus decodes to the same length, aligned at start and end (${name})`, async () => {
      const decoded = decode(await encode(chunking(signal), 'opus'));
      assert.ok(
        Math.abs(decoded.length - expected.length) <= 4,
        `opus decoded to ${decoded.length} samples for ${expected.length}`,
      );
      // A lost opening packet or an unskipped encoder delay shows as a shift; the window sizes and
      // lag range cover the 40 ms (960 samples) the issue reported.
      const window = 4800;
      for (const from of [1200, expected.length - window - 1200]) {
        const { lag, correlation } = bestLag(expected, decoded, from, window, 1200);
        assert.equal(lag, 0, `the audio from sample ${from} is shifted by ${lag} samples`);
        assert.ok(correlation > 0.9, `correlation ${correlation.toFixed(3)} at sample ${from}`);
      }
    });
  }
});

/** Bytes after the FLAC header's last metadata block: frames, i.e. encoded audio. */
function flacAudioBytes(bytes: Buffer): number {
  if (bytes.length < 4 || bytes.toString('latin1', 0, 4) !== 'fLaC') return 0;
  let offset = 4;
  while (offset + 4 <= bytes.length) {
    const last = (bytes[offset] & 0x80) !== 0;
    offset += 4 + bytes.readUIntBE(offset + 1, 3);
    if (last) return Math.max(0, bytes.length - offset);
  }
  return 0;
}

/** Bytes in complete Ogg pages whose granule position says they carry audio (not the two header pages). */
function oggAudioBytes(bytes: Buffer): number {
  let offset = 0;
  let audio = 0;
  while (offset + 27 <= bytes.length && bytes.toString('latin1', offset, offset + 4) === 'OggS') {
    const segments = bytes[offset + 26];
    if (offset + 27 + segments > bytes.length) break;
    let size = 0;
    for (let index = 0; index < segments; index += 1) size += bytes[offset + 27 + index];
    const end = offset + 27 + segments + size;
    if (end > bytes.length) break;
    if (bytes.readBigInt64LE(offset + 6) > 0n) audio += end - offset;
    offset = end;
  }
  return audio;
}

describe('speech encoding streams', () => {
  const audioBytes: Record<'flac' | 'opus', (bytes: Buffer) => number> = {
    flac: flacAudioBytes,
    opus: oggAudioBytes,
  };
  for (const format of ['flac', 'opus'] as const) {
    it(`${format} hands out encoded audio before the input has ended`, async () => {
      const signal = testSignal(2);
      const received: Buffer[] = [];
      let audioArrived: () => void = () => {};
      const arrived = new Promise<boolean>((resolve) => {
        audioArrived = () => resolve(true);
        setTimeout(() => resolve(false), 10000).unref();
      });
      let streamedEarly: boolean | undefined;
      // The second second of audio is only handed over once encoded audio of the first came out.
      async function* source(): AsyncGenerator<Float32Array> {
        yield signal.subarray(0, RATE);
        streamedEarly = await arrived;
        yield signal.subarray(RATE);
      }
      const abort = AbortSignal.timeout(TIMEOUT_MS);
      for await (const part of encodeSpeechStream(source(), format, RATE, abort)) {
        received.push(part);
        if (audioBytes[format](Buffer.concat(received)) > 0) audioArrived();
      }
      assert.equal(streamedEarly, true, 'no encoded audio came out while the input was still open');
      const decoded = decode(Buffer.concat(received)).length;
      assert.ok(Math.abs(decoded - signal.length) <= 4, `${decoded} samples for ${signal.length}`);
    });
  }
});
