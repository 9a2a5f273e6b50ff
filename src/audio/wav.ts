import { InvalidInputError } from '../errors.ts';

/**
 * 16-bit PCM mono WAV, what the seed returned (soundfile's default subtype). Samples are written
 * through an Int16Array view (little-endian on every platform Node runs on here), which keeps a
 * minute of audio to a few milliseconds of work on the event loop.
 */
export function encodeWav(samples: Float32Array, sampleRate: number): Buffer {
  return Buffer.concat([wavHeader(sampleRate, samples.length * 2), pcm16(samples)]);
}

/**
 * The 44-byte header of a 16-bit mono WAV holding `dataBytes` of samples. A stream whose length is not
 * known yet says the largest size, as streaming WAV servers do; players read until the end.
 */
export function wavHeader(sampleRate: number, dataBytes = 0xffffffff - 36): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** Float samples in [-1, 1] as signed 16-bit little-endian PCM (clipped). */
export function pcm16(samples: Float32Array): Buffer {
  const pcm = new Int16Array(samples.length);
  for (let index = 0; index < samples.length; index += 1) {
    const value = samples[index];
    const clipped = value > 1 ? 1 : value < -1 ? -1 : value || 0;
    pcm[index] = Math.round(clipped < 0 ? clipped * 32768 : clipped * 32767);
  }
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}

export interface DecodedWav {
  /** Mono (channels averaged), float in [-1, 1]. */
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

const broken = (reason: string) =>
  new InvalidInputError(`the WAV file is broken: ${reason}`, { code: 'invalid_audio', statusCode: 422 });

/** Decodes PCM 8/16/24/32-bit and 32/64-bit float WAV (WAVE_FORMAT_EXTENSIBLE too), mixing to mono. */
export function decodeWav(bytes: Buffer): DecodedWav {
  if (
    bytes.length < 12 ||
    bytes.toString('ascii', 0, 4) !== 'RIFF' ||
    bytes.toString('ascii', 8, 12) !== 'WAVE'
  ) {
    throw broken('no RIFF/WAVE header');
  }
  let offset = 12;
  let format:
    { audioFormat: number; channels: number; sampleRate: number; bitsPerSample: number } | undefined;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw broken('the fmt chunk is too short');
      let audioFormat = bytes.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format in the first two bytes of the sub-format GUID.
      if (audioFormat === 0xfffe && size >= 40) audioFormat = bytes.readUInt16LE(body + 24);
      format = {
        audioFormat,
        channels: bytes.readUInt16LE(body + 2),
        sampleRate: bytes.readUInt32LE(body + 4),
        bitsPerSample: bytes.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!format) throw broken('the data chunk comes before the fmt chunk');
      // Streams written before their length was known carry 0 or 0xFFFFFFFF: read to the end.
      const end = size === 0 || size === 0xffffffff ? bytes.length : Math.min(bytes.length, body + size);
      return {
        ...decodeSamples(bytes.subarray(body, end), format),
        sampleRate: format.sampleRate,
        channels: format.channels,
      };
    }
    offset = body + size + (size % 2);
  }
  throw broken(format ? 'no data chunk' : 'no fmt chunk');
}

function decodeSamples(
  data: Buffer,
  format: { audioFormat: number; channels: number; bitsPerSample: number; sampleRate: number },
): { samples: Float32Array } {
  const { audioFormat, channels, bitsPerSample } = format;
  if (channels < 1 || channels > 32) throw broken(`${channels} channels`);
  if (format.sampleRate < 1000 || format.sampleRate > 384000)
    throw broken(`a sample rate of ${format.sampleRate} Hz`);
  const bytesPerSample = bitsPerSample / 8;
  const read = sampleReader(audioFormat, bitsPerSample);
  const frames = Math.floor(data.length / (bytesPerSample * channels));
  const samples = new Float32Array(frames);
  for (let frame = 0; frame < frames; frame += 1) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel += 1) {
      sum += read(data, (frame * channels + channel) * bytesPerSample);
    }
    samples[frame] = sum / channels;
  }
  return { samples };
}

function sampleReader(audioFormat: number, bits: number): (data: Buffer, at: number) => number {
  if (audioFormat === 1) {
    if (bits === 8) return (data, at) => (data[at] - 128) / 128;
    if (bits === 16) return (data, at) => data.readInt16LE(at) / 32768;
    if (bits === 24) return (data, at) => data.readIntLE(at, 3) / 8388608;
    if (bits === 32) return (data, at) => data.readInt32LE(at) / 2147483648;
  }
  if (audioFormat === 3) {
    if (bits === 32) return (data, at) => data.readFloatLE(at);
    if (bits === 64) return (data, at) => data.readDoubleLE(at);
  }
  throw broken(
    `unsupported encoding (format ${audioFormat}, ${bits} bits): use PCM or float WAV, or MP3/FLAC/OGG/M4A`,
  );
}
