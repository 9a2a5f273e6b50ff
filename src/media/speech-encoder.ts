import { once } from 'node:events';
import { CancelledError, EngineFailedError } from '../errors.ts';
import { spawnFfmpeg } from './ffmpeg.ts';
import { pcm16, wavHeader } from '../audio/wav.ts';

export const SPEECH_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;
export type SpeechFormat = (typeof SPEECH_FORMATS)[number];

export const CONTENT_TYPES: Record<SpeechFormat, string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/ogg; codecs=opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

/** ffmpeg output settings per compressed format: containers that can be written as a stream. */
const FFMPEG_OUTPUT: Record<Exclude<SpeechFormat, 'wav' | 'pcm'>, string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp3'],
  // Encoded at 48 kHz: at 24 kHz the bundled ffmpeg writes libopus's delay into the Ogg pre-skip in
  // 24 kHz samples, but decoders read the pre-skip as 48 kHz ones and skip only half of it, so
  // 78 samples of encoder delay came out before the speech (issue #12).
  opus: ['-ar', '48000', '-c:a', 'libopus', '-b:a', '64k', '-page_duration', '20000', '-f', 'ogg'],
  aac: ['-c:a', 'aac', '-b:a', '128k', '-f', 'adts'],
  flac: ['-c:a', 'flac', '-f', 'flac'],
};

/**
 * Encodes speech as it is generated: WAV (a streaming header) and raw 16-bit PCM in TypeScript, the
 * compressed formats through one ffmpeg process fed through a pipe, so that the first bytes leave
 * while later sentences are still being generated. A `speed` other than 1 changes the tempo (not the
 * pitch) with ffmpeg's atempo filter, which also works on a stream.
 */
export async function* encodeSpeechStream(
  audio: AsyncIterable<Float32Array>,
  format: SpeechFormat,
  sampleRate: number,
  signal: AbortSignal,
  speed = 1,
): AsyncGenerator<Buffer> {
  const raw = format === 'pcm' || format === 'wav';
  if (format === 'wav') yield wavHeader(sampleRate);
  if (raw && speed === 1) {
    for await (const samples of audio) yield pcm16(samples);
    return;
  }
  const filter = speed === 1 ? [] : ['-af', atempoChain(speed)];
  const output = raw ? ['-c:a', 'pcm_s16le', '-f', 's16le'] : FFMPEG_OUTPUT[format];
  const input = speed === 1 ? audio : withSilentTail(audio, Math.round(sampleRate * 0.06));
  yield* encodeWithFfmpeg(input, [...filter, ...output], sampleRate, signal);
}

/** atempo keeps its last window (tens of milliseconds) at the end of a stream: a short silence flushes it. */
async function* withSilentTail(
  audio: AsyncIterable<Float32Array>,
  samples: number,
): AsyncGenerator<Float32Array> {
  yield* audio;
  yield new Float32Array(samples);
}

/** atempo takes 0.5–2 per instance: other speeds are a chain of them (0.25 = 0.5 × 0.5). */
export function atempoChain(speed: number): string {
  const factors: number[] = [];
  let remaining = speed;
  while (remaining > 2) {
    factors.push(2);
    remaining /= 2;
  }
  while (remaining < 0.5) {
    factors.push(0.5);
    remaining /= 0.5;
  }
  factors.push(remaining);
  return factors.map((factor) => `atempo=${Number(factor.toFixed(6))}`).join(',');
}

async function* encodeWithFfmpeg(
  audio: AsyncIterable<Float32Array>,
  output: string[],
  sampleRate: number,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  // Raw PCM needs no probing: without these ffmpeg reads most of a second before it encodes anything.
  // Not `-fflags nobuffer`: it makes ffmpeg drop the packets it read while probing, i.e. the first
  // 40 ms of the speech (issue #12); with a 32-byte probe that one packet is all the latency there is.
  const input = ['-probesize', '32', '-analyzeduration', '0'];
  input.push('-f', 's16le', '-ar', String(sampleRate), '-ac', '1', '-i', 'pipe:0');
  // -flush_packets: each encoded packet goes out at once instead of filling the muxer's buffer first.
  const { child, stderrTail } = spawnFfmpeg([...input, ...output, '-flush_packets', '1', 'pipe:1']);
  const exited = once(child, 'close') as Promise<[number | null]>;
  // Generation feeds ffmpeg while this generator hands its output on; a failure on either side stops both.
  let feedError: unknown;
  const feeding = (async () => {
    try {
      for await (const samples of audio) {
        if (!child.stdin.write(pcm16(samples))) await once(child.stdin, 'drain', { signal });
      }
    } catch (error) {
      feedError = error;
      child.kill('SIGKILL');
    } finally {
      child.stdin.end();
    }
  })();
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield chunk;
    await feeding;
    const [code] = await exited;
    if (feedError !== undefined) throw feedError;
    if (signal.aborted) throw new CancelledError();
    if (code !== 0)
      throw new EngineFailedError(`the audio encoder failed: ${stderrTail() || `exit ${code}`}`);
  } finally {
    // A consumer that stopped early (the client left) leaves nothing running behind it.
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
