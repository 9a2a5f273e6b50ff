import { decodeLikeOfficial, streamingContext } from './codec-decoding.ts';
import type { DecoderStepState } from './decoder-step-state.ts';
import type { GenerationSettings } from './generation-settings.ts';
import type { KvCache } from './kv-cache.ts';
import type { Qwen3ModelRuntime } from './model-runtime.ts';
import { buildTalkerPrompt, type VoiceData } from './prompt.ts';
import { SeededRandom } from './random.ts';
import { fillPredictorNoise, TalkerSampler } from './sampler.ts';

export interface GenerationRequest extends GenerationSettings {
  text: string;
  language: string;
  /**
   * Decode in small pieces while frames are generated (with the stateful codec_decoder_step where the
   * model has it, else with a left context of at least the decoder's attention window); false: decode
   * once at the end in the official chunks, as generate_voice_clone.
   */
  streaming: boolean;
  /**
   * Frames in the first streamed piece (small, for an early first sound); each later piece doubles
   * the one before, up to `chunkFrames`.
   */
  firstChunkFrames?: number;
  chunkFrames?: number;
}

export type GenerationEvent =
  | { type: 'audio'; samples: Float32Array }
  | {
      type: 'end';
      frames: number;
      finishReason: 'end-of-speech' | 'length';
      /** The generated codes, [frames × code groups]. */
      codes: Int32Array;
      timings: Record<string, number>;
    };

/**
 * One utterance, as the official `generate` computes it: prefill, then per frame c0 chosen on the host,
 * the 15 residual codes in one code-predictor run, and the talker step that takes the frame in. With
 * max_new_tokens N the talker chooses at most N tokens and the last one never becomes a frame, so at
 * most N − 1 frames are made (none for N = 1), and no talker step runs whose output would be thrown
 * away. `cancelled()` is checked between frames, so cancellation stops within one frame.
 */
export async function* generateSpeech(
  model: Qwen3ModelRuntime,
  voice: VoiceData,
  request: GenerationRequest,
  cancelled: () => boolean,
): AsyncGenerator<GenerationEvent> {
  // The worker's cache, reused request after request (kv-cache.ts); given back however this ends.
  const cache = model.acquireCache();
  try {
    yield* generateWithCache(model, cache, voice, request, cancelled);
  } finally {
    model.releaseCache(cache);
  }
}

async function* generateWithCache(
  model: Qwen3ModelRuntime,
  cache: KvCache,
  voice: VoiceData,
  request: GenerationRequest,
  cancelled: () => boolean,
): AsyncGenerator<GenerationEvent> {
  const startedAt = performance.now();
  let sessionMs = 0;
  // Time in session.run per graph (prefill apart from the talker's per-frame steps), for benchmarks.
  const graphMs = { prefill: 0, talker: 0, predictor: 0, decoder: 0 };
  const timed = async <T>(graph: keyof typeof graphMs, run: () => Promise<T>): Promise<T> => {
    const before = performance.now();
    const result = await run();
    const elapsed = performance.now() - before;
    sessionMs += elapsed;
    graphMs[graph] += elapsed;
    return result;
  };
  const { manifest, hidden } = model;
  const { vocabSize, codeGroups, codebookSize } = manifest.dimensions;
  const { samplesPerFrame, decoderMaxFrames } = manifest.audio;
  const random = new SeededRandom(request.seed);
  const sampler = new TalkerSampler({
    vocabSize,
    eosId: manifest.codecTokens.eos,
    suppressFrom: vocabSize - 1024,
    minNewTokens: 2,
    ...request.talker,
    random,
  });
  const subtalker = request.subtalker;
  const noise = new Float32Array((codeGroups - 1) * codebookSize);
  const prompt = await buildTalkerPrompt(model, request.text, request.language, voice);
  const promptMs = performance.now() - startedAt;
  let output = await timed('prefill', () => model.talker(prompt.prefill, prompt.rows, cache));
  cache.append(output.newKeys, output.newValues, prompt.rows);
  const prefillMs = performance.now() - startedAt;

  // All codes the decoder sees: the reference frames first (ICL), as the official decode does.
  const referenceFrames = voice.xVectorOnly ? 0 : voice.referenceFrames;
  const maxFrames = Math.max(0, request.maxNewTokens - 1);
  const codes = new Int32Array((referenceFrames + maxFrames) * codeGroups);
  if (referenceFrames > 0) codes.set(voice.referenceCodes.subarray(0, referenceFrames * codeGroups));
  let totalFrames = referenceFrames;
  let firstAudioMs: number | undefined;
  /** What the first audio waited for: the frames made before it and the first decode's own time. */
  let firstAudio: { frames: number; talkerMs: number; predictorMs: number; decodeMs: number } | undefined;
  /** Records, once, what the first decoded audio waited for (`decodedBefore`: decoder time before it). */
  const noteFirstAudio = (decodedBefore: number) => {
    firstAudio ??= {
      frames: totalFrames - referenceFrames,
      talkerMs: graphMs.talker,
      predictorMs: graphMs.predictor,
      decodeMs: graphMs.decoder - decodedBefore,
    };
  };
  const decode = async (window: Int32Array, frames: number, context: number) => {
    const decodedBefore = graphMs.decoder;
    const audio = await timed('decoder', () => model.decode(window, frames, context));
    noteFirstAudio(decodedBefore);
    return audio;
  };

  // Streaming. With codec_decoder_step every frame is decoded once, the decoder's state carried from
  // piece to piece, which equals one decode of the whole sequence; the reference frames (ICL), which
  // precede the generated ones in the official decode, go through the state first and their audio is
  // dropped (a voice's state after them is kept per worker: see decoderStateAfter). Models without it
  // (older exports): each piece is decoded again with at least the decoder's attention window as left
  // context.
  let stepState: DecoderStepState | undefined;
  const referenceDecode = { primed: 0, ms: 0 };
  if (request.streaming) {
    const before = graphMs.decoder;
    const started = await timed('decoder', () =>
      model.decoderStateAfter(voice.referenceCodes, referenceFrames),
    );
    stepState = started?.state;
    referenceDecode.primed = started?.primed ?? 0;
    referenceDecode.ms = graphMs.decoder - before;
  }
  let nextToDecode = referenceFrames;
  const contextFrames = stepState ? 0 : streamingContext(manifest);
  const pieceLimit = Math.max(1, decoderMaxFrames - contextFrames);
  // Through the decoder's state: one frame first (first audio waits for one frame, not four), then
  // 2, 4, 8, 16, so that the audio sent grows ahead of what a client has played whenever frames come
  // faster than twice real time, where a jump from one frame to sixteen would leave it waiting. The
  // windowed path keeps 4, then 16: each of its pieces decodes its left context again.
  const firstPiece = Math.min(request.firstChunkFrames ?? (stepState ? 1 : 4), pieceLimit);
  const laterPiece = Math.min(request.chunkFrames ?? 16, pieceLimit);
  let lastPiece = 0;
  const nextPiece = () =>
    lastPiece === 0
      ? firstPiece
      : stepState
        ? Math.min(laterPiece, Math.max(firstPiece, lastPiece * 2))
        : laterPiece;
  const framesOf = (start: number, count: number) =>
    codes.subarray(start * codeGroups, (start + count) * codeGroups);
  /** The audio of frames [start, start + count). */
  const decodePiece = async (start: number, count: number): Promise<Float32Array> => {
    if (!stepState) {
      const context = Math.min(contextFrames, start);
      const audio = await decode(framesOf(start - context, context + count), context + count, context);
      return audio.subarray(0, count * samplesPerFrame);
    }
    const decodedBefore = graphMs.decoder;
    const audio = await timed('decoder', () => model.decodeStep(framesOf(start, count), count, stepState));
    noteFirstAudio(decodedBefore);
    return audio;
  };
  const decodeReady = async function* (flush: boolean): AsyncGenerator<GenerationEvent> {
    for (;;) {
      const wanted = nextPiece();
      const available = totalFrames - nextToDecode;
      if (available <= 0 || (!flush && available < wanted)) return;
      const count = Math.min(available, wanted);
      const samples = await decodePiece(nextToDecode, count);
      nextToDecode += count;
      lastPiece = count;
      firstAudioMs ??= performance.now() - startedAt;
      yield { type: 'audio', samples };
    }
  };

  const frameInput = new Float32Array(hidden);
  let generated = 0;
  let finishReason: 'end-of-speech' | 'length' = 'length';
  while (generated < maxFrames) {
    if (cancelled()) return;
    const c0 = sampler.next(output.logits);
    if (c0 === manifest.codecTokens.eos) {
      finishReason = 'end-of-speech';
      break;
    }
    fillPredictorNoise(noise, random, subtalker.doSample);
    const residual = await timed('predictor', () =>
      model.predictCodes(
        output.hidden,
        c0,
        subtalker.doSample
          ? { temperature: subtalker.temperature, topK: subtalker.topK, topP: subtalker.topP }
          : { temperature: 1, topK: 0, topP: 1 },
        noise,
      ),
    );
    const frameStart = totalFrames * codeGroups;
    codes[frameStart] = c0;
    frameInput.set(model.codecRow(c0));
    for (let group = 1; group < codeGroups; group += 1) {
      const code = Number(residual[group - 1]);
      codes[frameStart + group] = code;
      const row = model.residualRow(group, code);
      for (let index = 0; index < hidden; index += 1) frameInput[index] += row[index];
    }
    const textRow =
      generated < prompt.trailingRows
        ? prompt.trailing.subarray(generated * hidden, (generated + 1) * hidden)
        : prompt.padRow;
    for (let index = 0; index < hidden; index += 1) frameInput[index] += textRow[index];
    totalFrames += 1;
    generated += 1;
    if (request.streaming) yield* decodeReady(false);
    // The token this step would let the talker choose could never become a frame: skip the step.
    if (generated === maxFrames || cancelled()) break;
    output = await timed('talker', () => model.talker(frameInput, 1, cache));
    cache.append(output.newKeys, output.newValues, 1);
  }
  if (cancelled()) return;
  if (request.streaming) yield* decodeReady(true);
  else {
    for await (const samples of decodeLikeOfficial(manifest, decode, codes, totalFrames, referenceFrames)) {
      firstAudioMs ??= performance.now() - startedAt;
      yield { type: 'audio', samples };
    }
  }
  const totalMs = performance.now() - startedAt;
  yield {
    type: 'end',
    frames: generated,
    finishReason,
    codes: codes.slice(referenceFrames * codeGroups, totalFrames * codeGroups),
    timings: {
      prefillMs,
      firstAudioMs: firstAudioMs ?? totalMs,
      totalMs,
      sessionMs,
      hostMs: totalMs - sessionMs,
      promptRows: prompt.rows,
      promptMs,
      prefillTalkerMs: graphMs.prefill,
      talkerMs: graphMs.talker,
      predictorMs: graphMs.predictor,
      decoderMs: graphMs.decoder,
      firstAudioFrames: firstAudio?.frames ?? 0,
      firstAudioTalkerMs: firstAudio?.talkerMs ?? 0,
      firstAudioPredictorMs: firstAudio?.predictorMs ?? 0,
      firstAudioDecodeMs: firstAudio?.decodeMs ?? 0,
      // The reference frames run through the streamed decoder's state (0 frames: the voice's was kept).
      referenceDecodeFrames: referenceDecode.primed,
      referenceDecodeMs: referenceDecode.ms,
      audioSeconds: (generated * samplesPerFrame) / manifest.audio.sampleRate,
    },
  };
}
