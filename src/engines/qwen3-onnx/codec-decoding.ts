import type { Qwen3Manifest } from '../../models/qwen3-manifest.ts';

/** Decodes codes[start, end) (frames × groups) and returns the audio of its frames after `context`. */
export type DecodeWindow = (codes: Int32Array, frames: number, context: number) => Promise<Float32Array>;

/** Frames per chunk of the official non-streaming decode: `decoderMaxFrames − decoderLeftContext` (300). */
export function officialChunkFrames(manifest: Qwen3Manifest): number {
  return manifest.audio.decoderMaxFrames - manifest.audio.decoderLeftContext;
}

/**
 * Where the official decode cuts the reference's audio off (generate_voice_clone:
 * `cut = int(ref_len / total_len * len(wav))`, in floating point as it does). That is
 * `referenceFrames × samplesPerFrame` or, for about one length in twenty, a sample less.
 */
export function officialCut(referenceFrames: number, totalFrames: number, samplesPerFrame: number): number {
  if (referenceFrames === 0) return 0;
  return Math.trunc((referenceFrames / Math.max(totalFrames, 1)) * totalFrames * samplesPerFrame);
}

/**
 * The official non-streaming decode (Qwen3TTSTokenizerV2Decoder.chunked_decode): the whole sequence —
 * reference codes first in ICL mode — in chunks of officialChunkFrames (300), each with up to
 * `decoderLeftContext` (25) frames of left context; then the reference part is cut off where
 * generate_voice_clone cuts it. Yields each chunk's audio as soon as it is decoded. (With
 * codec_decoder_step, StreamedDecoding's official mode makes the same audio beside generation.)
 * The codec decoder is causal, so skipping the chunks that lie wholly inside the reference changes
 * nothing.
 */
export async function* decodeLikeOfficial(
  manifest: Qwen3Manifest,
  decode: DecodeWindow,
  codes: Int32Array,
  totalFrames: number,
  referenceFrames: number,
): AsyncGenerator<Float32Array> {
  const { decoderLeftContext, samplesPerFrame } = manifest.audio;
  const groups = manifest.dimensions.codeGroups;
  const chunk = officialChunkFrames(manifest);
  const cut = officialCut(referenceFrames, totalFrames, samplesPerFrame);
  for (let start = 0; start < totalFrames; start += chunk) {
    const end = Math.min(start + chunk, totalFrames);
    if (end * samplesPerFrame <= cut) continue;
    const context = start - decoderLeftContext > 0 ? decoderLeftContext : start;
    const window = codes.subarray((start - context) * groups, end * groups);
    const audio = await decode(window, end - start + context, context);
    const skip = Math.max(0, cut - start * samplesPerFrame);
    yield audio.subarray(skip, (end - start) * samplesPerFrame);
  }
}

/**
 * Left context for streamed pieces of a model without codec_decoder_step (older exports; with it, the
 * decoder's state replaces the context): at least the decoder transformer's attention window (72 frames in
 * the released codec), so that every new frame attends to as many frames as it would in one long
 * decode; the official 25 frames are kept if larger.
 */
export function streamingContext(manifest: Qwen3Manifest): number {
  const { decoderLeftContext, decoderAttentionWindow } = manifest.audio;
  return Math.max(decoderLeftContext, decoderAttentionWindow);
}
