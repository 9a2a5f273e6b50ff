import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { joinSamples } from '../audio/join-samples.ts';
import { encodeWav } from '../audio/wav.ts';
import type { Config } from '../config.ts';
import { ReferenceAudioResolver, referenceAudioOptionsFromConfig } from '../core/reference-audio.ts';
import { Qwen3OnnxEngine } from '../engines/qwen3-onnx/engine.ts';
import { LANGUAGES, type Language } from '../engines/interfaces/tts-engine.ts';
import { MODEL_REGISTRY } from '../models/model-registry.ts';
import { readQwen3Manifest } from '../models/qwen3-manifest.ts';
import { setUpFfmpeg } from '../media/ffmpeg-choice.ts';

export interface SpeakOptions {
  model: string;
  voice: string;
  refText?: string;
  text: string;
  out: string;
  language: string;
  xVectorOnly?: boolean;
  seed?: string;
  greedy?: boolean;
  maxNewTokens?: string;
  streaming?: boolean;
  codes?: string;
}

/**
 * `npm run cli -- speak`: one utterance from a model directory, a voice file and its transcript, to a
 * WAV file, through the same engine the server runs (worker threads, voice preparation, generation
 * and decoding) but without HTTP, text normalization or sentence splitting: the text is spoken as
 * given, as the official `generate_voice_clone` does. `--codes` also writes the generated codec codes
 * as JSON, for comparing with the official code outside the test suite.
 */
export async function runSpeakCommand(options: SpeakOptions, config: Config): Promise<void> {
  const directory = path.resolve(options.model);
  const manifest = await readQwen3Manifest(directory);
  const language = LANGUAGES.find((name) => name.toLowerCase() === options.language.toLowerCase());
  if (!language) throw new Error(`--language must be one of ${LANGUAGES.join(', ')}`);
  const xVectorOnly = options.xVectorOnly ?? false;
  if (!xVectorOnly && !options.refText?.trim())
    throw new Error('--ref-text (the transcript of --voice) is needed, or pass --x-vector-only');
  const integer = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new Error(`${name} must be a whole number`);
    return Number(value);
  };
  const seed = integer(options.seed, '--seed') ?? 0;
  const maxNewTokens = integer(options.maxNewTokens, '--max-new-tokens');

  // The voice file may need ffmpeg to decode: the same choice as the server's, warnings included.
  await setUpFfmpeg(config, { info: () => {}, warn: (message) => console.warn(`ffmpeg: ${message}`) });
  const voicePath = path.resolve(options.voice);
  const references = new ReferenceAudioResolver({
    ...referenceAudioOptionsFromConfig(config),
    directory: path.dirname(voicePath),
  });
  const variable =
    MODEL_REGISTRY[manifest.modelKey === 'base_1.7b' ? 'base_1.7b' : 'base_0.6b'].directoryVariable;
  const engine = new Qwen3OnnxEngine({ ...config, [variable]: directory, TTS_WORKERS: 1 });
  const signal = AbortSignal.timeout(config.REQUEST_TIMEOUT_MS);
  try {
    const reference = await references.resolve(path.basename(voicePath), signal);
    for (const warning of reference.warnings ?? []) console.warn(`reference: ${warning}`);
    const startedAt = performance.now();
    const voice = await engine.prepareVoice(
      { model: manifest.modelKey, reference, referenceText: options.refText ?? '', xVectorOnly },
      signal,
    );
    const parts: Float32Array[] = [];
    let codes: Int32Array | undefined;
    let summary = '';
    for await (const part of engine.generate(
      {
        model: manifest.modelKey,
        text: options.text,
        language: language as Language,
        voice,
        sampling: {
          seed,
          maxNewTokens,
          ...(options.greedy ? { doSample: false, subtalker: { doSample: false } } : {}),
        },
        streaming: options.streaming ?? false,
      },
      signal,
    )) {
      if (part.type === 'audio-delta') parts.push(part.samples);
      if (part.type === 'audio-end') {
        codes = part.codes;
        summary = `${part.frames ?? 0} frames, ended by ${part.finishReason === 'end-of-speech' ? 'end of speech' : 'max_new_tokens'}`;
      }
    }
    const samples = joinSamples(parts);
    await mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
    await writeFile(options.out, encodeWav(samples, manifest.audio.sampleRate));
    const seconds = samples.length / manifest.audio.sampleRate;
    const elapsed = (performance.now() - startedAt) / 1000;
    console.log(
      `wrote ${options.out}: ${seconds.toFixed(2)} s of audio (${summary}) in ${elapsed.toFixed(2)} s, seed ${seed}`,
    );
    if (options.codes && codes) {
      const groups = manifest.dimensions.codeGroups;
      const frames = Array.from({ length: codes.length / groups }, (_row, frame) => [
        ...codes.subarray(frame * groups, (frame + 1) * groups),
      ]);
      await writeFile(options.codes, `${JSON.stringify({ codes: frames })}\n`);
      console.log(`wrote ${options.codes}: ${frames.length} frames of ${groups} codes`);
    }
  } finally {
    await engine.close();
  }
}
