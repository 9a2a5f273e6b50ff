import { resample } from '../../audio/resample.ts';
import { CancelledError } from '../../errors.ts';
import { createVideoEncoder, VIDEO_ENCODING } from '../../media/video-encoder.ts';
import type { MuseTalkRuntime } from './musetalk-runtime.ts';
import type { RenderAvatar } from './render-avatar.ts';
import {
  audioWindows,
  WHISPER_SAMPLE_RATE,
  WHISPER_SEGMENT_SAMPLES,
  whisperLogMel,
} from './whisper-features.ts';

export type RenderStage = 'features' | 'lipsync' | 'encode';

/**
 * Speech + prepared avatar → MP4: Whisper features per 30 s segment, the encoder's hidden states, one
 * 50 × 384 window per video frame, batched UNet + VAE decoding, blending into the photo or the video
 * avatar's frame, and the frames streamed into ffmpeg with the speech. The video has
 * floor(seconds × 25) frames, as the official get_whisper_chunk counts them (the last, partial
 * frame's worth of speech plays over the last frame).
 */
export async function renderVideo(
  runtime: MuseTalkRuntime,
  avatar: RenderAvatar,
  speech: { samples: Float32Array; sampleRate: number },
  options: {
    batchSize: number;
    cancelled: () => boolean;
    onProgress: (stage: RenderStage, fraction: number) => void;
    /** Also write a live HLS stream here (see createVideoEncoder); onPlayable: its first segment is done. */
    stream?: { directory: string; onPlayable: () => void };
  },
): Promise<{ mp4: Buffer; timings: Record<string, number> }> {
  const startedAt = performance.now();
  const check = () => {
    if (options.cancelled()) throw new CancelledError();
  };
  const audio16k = resample(speech.samples, speech.sampleRate, WHISPER_SAMPLE_RATE);
  const { whisperStates: states, audioFeature: feature, whisperPositions } = runtime.manifest.dimensions;
  const whisperFrames = Math.floor((audio16k.length / WHISPER_SAMPLE_RATE) * 50);
  const hidden = new Float32Array(
    Math.max(1, Math.ceil(audio16k.length / WHISPER_SEGMENT_SAMPLES)) * whisperPositions * states * feature,
  );
  for (let segment = 0; segment * WHISPER_SEGMENT_SAMPLES < Math.max(1, audio16k.length); segment += 1) {
    check();
    const features = whisperLogMel(
      audio16k.subarray(segment * WHISPER_SEGMENT_SAMPLES, (segment + 1) * WHISPER_SEGMENT_SAMPLES),
    );
    hidden.set(await runtime.whisper(features), segment * whisperPositions * states * feature);
  }
  options.onProgress('features', 1);
  const featuresMs = performance.now() - startedAt;

  const videoFrames = videoFrameCount(audio16k.length);
  const windows = audioWindows(hidden, whisperFrames, states, feature, videoFrames);
  const encoder = await createVideoEncoder({
    width: avatar.width,
    height: avatar.height,
    speech,
    stream: options.stream,
  });
  let neuralMs = 0;
  let blendMs = 0;
  try {
    const windowSize = 50 * feature;
    for (let start = 0; start < videoFrames; start += options.batchSize) {
      check();
      const batch = Math.min(options.batchSize, videoFrames - start);
      // Only frames whose avatar frame has a face go through the networks; the others are shown as they are.
      const withFace: { frame: number; latents: Float32Array }[] = [];
      for (let frame = start; frame < start + batch; frame += 1) {
        const latents = avatar.latentsFor(frame);
        if (latents) withFace.push({ frame, latents });
      }
      const before = performance.now();
      const faces =
        withFace.length > 0 ? await renderFaces(runtime, withFace, windows, windowSize) : undefined;
      neuralMs += performance.now() - before;
      let faceIndex = 0;
      for (let frame = start; frame < start + batch; frame += 1) {
        const blendStart = performance.now();
        const hasFace = faces !== undefined && withFace[faceIndex]?.frame === frame;
        const output = await avatar.compose(frame, hasFace ? faceBytes(faces, faceIndex) : undefined);
        if (hasFace) faceIndex += 1;
        blendMs += performance.now() - blendStart;
        await encoder.writeFrame(output);
      }
      options.onProgress('lipsync', Math.min(1, (start + batch) / videoFrames));
    }
  } catch (error) {
    encoder.abort();
    throw error;
  }
  const encodeStart = performance.now();
  const mp4 = await encoder.finish();
  options.onProgress('encode', 1);
  return {
    mp4,
    timings: {
      featuresMs,
      neuralMs,
      blendMs,
      finishMs: performance.now() - encodeStart,
      totalMs: performance.now() - startedAt,
      frames: videoFrames,
    },
  };
}

/** One UNet + VAE batch for these frames, each with its avatar frame's latents and its own audio window. */
async function renderFaces(
  runtime: MuseTalkRuntime,
  frames: { frame: number; latents: Float32Array }[],
  windows: Float32Array,
  windowSize: number,
): Promise<Float32Array> {
  const latentSize = frames[0].latents.length;
  const latents = new Float32Array(frames.length * latentSize);
  const audio = new Float32Array(frames.length * windowSize);
  frames.forEach(({ frame, latents: frameLatents }, index) => {
    latents.set(frameLatents, index * latentSize);
    audio.set(windows.subarray(frame * windowSize, (frame + 1) * windowSize), index * windowSize);
  });
  return runtime.render(latents, audio, frames.length);
}

/** audio_processor.get_whisper_chunk: floor(seconds × fps) video frames of the 16 kHz speech (at least one). */
export function videoFrameCount(samples16k: number): number {
  return Math.max(1, Math.floor((samples16k / WHISPER_SAMPLE_RATE) * VIDEO_ENCODING.fps));
}

/**
 * Decoder output [B × 3 × 256 × 256] in [0, 1] → one face as RGB bytes, as vae.decode_latents does:
 * float32 × 255, rounded half to even (numpy's round).
 */
export function faceBytes(faces: Float32Array, index: number): Uint8Array {
  const plane = 256 * 256;
  const offset = index * 3 * plane;
  const rgb = new Uint8Array(plane * 3);
  for (let pixel = 0; pixel < plane; pixel += 1) {
    for (let channel = 0; channel < 3; channel += 1) {
      const value = Math.fround(Math.min(1, Math.max(0, faces[offset + channel * plane + pixel])) * 255);
      const floor = Math.floor(value);
      rgb[pixel * 3 + channel] =
        value - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(value);
    }
  }
  return rgb;
}
