import { KvCache } from './kv-cache.ts';
import type { Qwen3ModelRuntime } from './model-runtime.ts';
import { buildTalkerPrompt, type VoiceData } from './prompt.ts';
import { SeededRandom } from './random.ts';
import { fillPredictorNoise, TalkerSampler } from './sampler.ts';

export interface GenerationRequest {
  text: string;
  language: string;
  seed: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  doSample: boolean;
  maxNewTokens: number;
  /** Frames in the first streamed chunk (small, for an early first sound), then in each later one. */
  firstChunkFrames?: number;
  chunkFrames?: number;
}

export type GenerationEvent =
  | { type: 'audio'; samples: Float32Array }
  | {
      type: 'end';
      frames: number;
      finishReason: 'end-of-speech' | 'length';
      timings: Record<string, number>;
    };

/**
 * One utterance: prefill, then per frame c0 on the host, the 15 residual codes in one predictor run,
 * and the next talker step; audio is decoded in chunks with left context while the loop runs.
 * `cancelled()` is checked between frames, so cancellation stops within one frame.
 */
export async function* generateSpeech(
  model: Qwen3ModelRuntime,
  voice: VoiceData,
  request: GenerationRequest,
  cancelled: () => boolean,
): AsyncGenerator<GenerationEvent> {
  const startedAt = performance.now();
  let sessionMs = 0;
  const timed = async <T>(work: Promise<T>): Promise<T> => {
    const before = performance.now();
    const result = await work;
    sessionMs += performance.now() - before;
    return result;
  };
  const { manifest, hidden } = model;
  const { layers, kvHeads, headDim, vocabSize, codeGroups, codebookSize } = manifest.dimensions;
  const { samplesPerFrame, decoderMaxFrames, decoderLeftContext } = manifest.audio;
  const random = new SeededRandom(request.seed);
  const sampler = new TalkerSampler({
    vocabSize,
    eosId: manifest.codecTokens.eos,
    suppressFrom: vocabSize - 1024,
    minNewTokens: 2,
    repetitionPenalty: request.repetitionPenalty,
    temperature: request.temperature,
    topK: request.topK,
    topP: request.topP,
    doSample: request.doSample,
    random,
  });
  const noise = new Float32Array((codeGroups - 1) * codebookSize);
  const prompt = await buildTalkerPrompt(model, request.text, request.language, voice);
  const cache = new KvCache(layers, kvHeads, headDim, model.dtype, Math.max(256, prompt.rows * 2));
  let output = await timed(model.talker(prompt.prefill, prompt.rows, cache.tensors(), 0));
  cache.append(output.newKeys, output.newValues, prompt.rows);
  const prefillMs = performance.now() - startedAt;

  // All codes the decoder sees: the reference frames first (ICL), so the first chunk has left context.
  const referenceFrames = voice.xVectorOnly ? 0 : voice.referenceFrames;
  const maxFrames = Math.max(1, request.maxNewTokens - 1);
  const codes = new Int32Array((referenceFrames + maxFrames + 1) * codeGroups);
  if (referenceFrames > 0) codes.set(voice.referenceCodes.subarray(0, referenceFrames * codeGroups));
  let totalFrames = referenceFrames;
  let nextToDecode = referenceFrames;
  let firstAudioMs: number | undefined;
  const chunkLimit = decoderMaxFrames - decoderLeftContext;
  const firstChunk = Math.min(request.firstChunkFrames ?? 4, chunkLimit);
  const laterChunk = Math.min(request.chunkFrames ?? 16, chunkLimit);

  const decodeReady = async function* (flush: boolean): AsyncGenerator<GenerationEvent> {
    for (;;) {
      const wanted = nextToDecode === referenceFrames ? firstChunk : laterChunk;
      const available = totalFrames - nextToDecode;
      if (available <= 0 || (!flush && available < wanted)) return;
      const count = Math.min(available, wanted);
      const context = Math.min(decoderLeftContext, nextToDecode);
      const start = nextToDecode - context;
      const window = codes.subarray(start * codeGroups, (nextToDecode + count) * codeGroups);
      const audio = await timed(model.decode(window, context + count, context));
      nextToDecode += count;
      firstAudioMs ??= performance.now() - startedAt;
      yield { type: 'audio', samples: audio.subarray(0, count * samplesPerFrame) };
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
    fillPredictorNoise(noise, random, request.doSample);
    const residual = await timed(
      model.predictCodes(output.hidden, c0, request.doSample ? request.temperature : 1, request.topK, noise),
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
    yield* decodeReady(false);
    if (cancelled()) return;
    output = await timed(model.talker(frameInput, 1, cache.tensors(), cache.length));
    cache.append(output.newKeys, output.newValues, 1);
  }
  yield* decodeReady(true);
  const totalMs = performance.now() - startedAt;
  yield {
    type: 'end',
    frames: generated,
    finishReason,
    timings: {
      prefillMs,
      firstAudioMs: firstAudioMs ?? totalMs,
      totalMs,
      sessionMs,
      hostMs: totalMs - sessionMs,
      promptRows: prompt.rows,
      audioSeconds: (generated * samplesPerFrame) / manifest.audio.sampleRate,
    },
  };
}
