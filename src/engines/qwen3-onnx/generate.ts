import { decodeLikeOfficial, officialChunkFrames, type DecodeWindow } from './codec-decoding.ts';
import type { GenerationSettings } from './generation-settings.ts';
import type { KvCache } from './kv-cache.ts';
import type { Qwen3ModelRuntime } from './model-runtime.ts';
import { buildTalkerPrompt, type VoiceData } from './prompt.ts';
import { SeededRandom } from './random.ts';
import { fillPredictorNoise, TalkerSampler } from './sampler.ts';
import { StreamedDecoding } from './streamed-decoding.ts';

export interface GenerationRequest extends GenerationSettings {
  text: string;
  language: string;
  /**
   * Decode in small pieces while frames are generated (with the stateful codec_decoder_step where the
   * model has it, else with a left context of at least the decoder's attention window); false: the
   * official chunked decode, as generate_voice_clone (with codec_decoder_step, decoded beside
   * generation too, chunk by chunk, which gives the same audio).
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
  const graphMs = { prefill: 0, talker: 0, predictor: 0 };
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
  const { samplesPerFrame } = manifest.audio;
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

  // All codes the decoder sees: the reference frames first (ICL), as the official decode does.
  const referenceFrames = voice.xVectorOnly ? 0 : voice.referenceFrames;
  const maxFrames = Math.max(0, request.maxNewTokens - 1);
  const codes = new Int32Array((referenceFrames + maxFrames) * codeGroups);
  if (referenceFrames > 0) codes.set(voice.referenceCodes.subarray(0, referenceFrames * codeGroups));
  let totalFrames = referenceFrames;
  // Streamed audio is decoded on the decoder thread beside generation, from before the prefill: a
  // new voice's reference frames go through the decoder while the talker takes the prompt. Not
  // streaming, the official chunked decode is made so too where the model has codec_decoder_step: each
  // chunk through the step decoder's state, started as the official decode starts its window, gives
  // that chunk's audio (tests: official-parity), and the worker then waits only for the last piece.
  const officialBeside =
    !request.streaming &&
    manifest.codecDecoderStep !== undefined &&
    referenceFrames < officialChunkFrames(manifest);
  const streamed =
    request.streaming || officialBeside
      ? new StreamedDecoding(
          manifest,
          model.decoder,
          codes,
          referenceFrames,
          { first: request.firstChunkFrames, later: request.chunkFrames },
          officialBeside,
        )
      : undefined;
  try {
    const prompt = await buildTalkerPrompt(model, request.text, request.language, voice);
    const promptMs = performance.now() - startedAt;
    let output = await timed('prefill', () => model.talker(prompt.prefill, prompt.rows, cache));
    cache.append(output.newKeys, output.newValues, prompt.rows);
    const prefillMs = performance.now() - startedAt;

    let firstAudioMs: number | undefined;
    /** What the first audio waited for: the frames made before it. */
    let firstAudio: { frames: number; talkerMs: number; predictorMs: number } | undefined;
    const audioEvent = (samples: Float32Array): GenerationEvent => {
      firstAudioMs ??= performance.now() - startedAt;
      firstAudio ??= {
        frames: totalFrames - referenceFrames,
        talkerMs: graphMs.talker,
        predictorMs: graphMs.predictor,
      };
      return { type: 'audio', samples };
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
      if (streamed) {
        // Pieces go to the decoder as soon as they are whole; what it has finished is sent now.
        streamed.submit(totalFrames, false);
        if (request.streaming) for await (const samples of streamed.take(false)) yield audioEvent(samples);
      }
      // The token this step would let the talker choose could never become a frame: skip the step.
      if (generated === maxFrames || cancelled()) break;
      output = await timed('talker', () => model.talker(frameInput, 1, cache));
      cache.append(output.newKeys, output.newValues, 1);
      if (streamed && request.streaming)
        for await (const samples of streamed.take(false)) yield audioEvent(samples);
    }
    if (cancelled()) return;
    // The codec_decoder runs on windows of frames (the official chunks), timed here.
    const windows = { ms: 0, waitedMs: 0, firstMs: 0 };
    const decode: DecodeWindow = async (window, frames, context) => {
      const before = performance.now();
      const audio = await model.decoder.decode(window, frames, context);
      windows.waitedMs += performance.now() - before;
      windows.ms += audio.ms;
      if (windows.firstMs === 0) windows.firstMs = audio.ms;
      return audio.samples;
    };
    let audio: AsyncIterable<Float32Array>;
    if (streamed?.isOfficial) audio = streamed.officialAudio(totalFrames);
    else if (streamed) {
      streamed.submit(totalFrames, true);
      audio = streamed.take(true);
    } else audio = decodeLikeOfficial(manifest, decode, codes, totalFrames, referenceFrames);
    for await (const samples of audio) yield audioEvent(samples);
    const reference = streamed ? await streamed.reference : { primed: 0, ms: 0 };
    const decoderMs = (streamed?.decoderMs ?? 0) + reference.ms + windows.ms;
    const waitedMs = (streamed?.waitedMs ?? 0) + windows.waitedMs;
    const firstDecodeMs = streamed?.firstPieceMs ?? windows.firstMs;
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
        // The worker's own time: neither in its session runs nor waiting for the decoder thread.
        hostMs: totalMs - sessionMs - waitedMs,
        promptRows: prompt.rows,
        promptMs,
        prefillTalkerMs: graphMs.prefill,
        talkerMs: graphMs.talker,
        predictorMs: graphMs.predictor,
        // The decoder thread's session time (beside generation, so not part of totalMs's sum), and how
        // long the worker waited for it once every frame was made (or, not streaming, for each chunk).
        decoderMs,
        decoderWaitMs: waitedMs,
        firstAudioFrames: firstAudio?.frames ?? 0,
        firstAudioTalkerMs: firstAudio?.talkerMs ?? 0,
        firstAudioPredictorMs: firstAudio?.predictorMs ?? 0,
        firstAudioDecodeMs: firstDecodeMs,
        // The reference frames run through the streamed decoder's state (0 frames: the voice's was kept).
        referenceDecodeFrames: reference.primed,
        referenceDecodeMs: reference.ms,
        audioSeconds: (generated * samplesPerFrame) / manifest.audio.sampleRate,
      },
    };
  } finally {
    streamed?.close();
  }
}
