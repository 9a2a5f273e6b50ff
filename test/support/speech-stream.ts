import assert from 'node:assert/strict';
import { joinSamples } from '../../src/audio/join-samples.ts';
import type { SpeechStreamPart } from '../../src/engines/interfaces/index.ts';

type AudioEnd = Extract<SpeechStreamPart, { type: 'audio-end' }>;

/** An engine's speech stream read to its end: the audio joined, how many pieces it came in, its end. */
export async function collectSpeechStream(
  stream: AsyncIterable<SpeechStreamPart>,
): Promise<{ audio: Float32Array; parts: number; end: AudioEnd }> {
  const chunks: Float32Array[] = [];
  let end: AudioEnd | undefined;
  for await (const part of stream) {
    if (part.type === 'audio-delta') chunks.push(part.samples);
    if (part.type === 'audio-end') end = part;
  }
  assert.ok(end, 'the stream ended with audio-end');
  return { audio: joinAudio(chunks), parts: chunks.length, end };
}

/** Pieces of audio joined in order into one array. */
export const joinAudio = joinSamples;
