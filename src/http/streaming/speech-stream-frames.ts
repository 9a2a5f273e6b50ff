import { wavHeader } from '../../audio/wav.ts';
import type { SpeechFormat } from '../../media/speech-encoder.ts';

const WAV_HEADER_BYTES = 44;

/**
 * The binary messages of one sentence, as vLLM-Omni sends them: with `stream_audio`, the encoded
 * chunks as they are made; without, one message holding the whole sentence.
 */
export async function* sentenceFrames(
  encoded: AsyncIterable<Buffer>,
  streamAudio: boolean,
  format: SpeechFormat,
  sampleRate: number,
): AsyncGenerator<Buffer> {
  if (streamAudio) {
    yield* encoded;
    return;
  }
  const parts: Buffer[] = [];
  for await (const part of encoded) parts.push(part);
  const whole = Buffer.concat(parts);
  if (format !== 'wav' || whole.length < WAV_HEADER_BYTES) {
    yield whole;
    return;
  }
  // The encoder's header is a stream's (the largest size); a whole file states its real size.
  const samples = whole.subarray(WAV_HEADER_BYTES);
  yield Buffer.concat([wavHeader(sampleRate, samples.length), samples]);
}
