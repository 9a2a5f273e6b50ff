import type { Logger } from 'pino';
import type {
  Language,
  ReferenceAudio,
  SpeechStreamPart,
  TtsEngine,
  VoicePrompt,
} from '../engines/interfaces/index.ts';
import { joinSamples } from '../audio/join-samples.ts';
import { CancelledError, EngineFailedError, InvalidInputError } from '../errors.ts';
import type { AdmissionQueue, QueueTicket } from './admission.ts';
import { EngineSlot } from './engine-slot.ts';
import { readAhead } from './read-ahead.ts';
import type { SpeechEvent, SpeechItem, SpeechJob } from './speech-job.ts';
import type { WorkObserver } from './work-observer.ts';
import { SpeechResultCache } from './speech-result-cache.ts';

/** Turns text into what will be spoken: normalized, then split into sentences. */
export interface TextPreparer {
  prepare(
    text: string,
    options: {
      language: Language;
      split: boolean | null;
      normalize: boolean;
      pronunciations?: Record<string, string>;
    },
  ): { normalized: string; sentences: string[] };
}

/** Resolves ref_audio (path, URL, base64) into decoded 24 kHz reference audio. */
export interface ReferenceResolver {
  resolve(value: string, signal: AbortSignal): Promise<ReferenceAudio>;
}

export interface SpeechServiceOptions {
  engine: TtsEngine;
  admission: AdmissionQueue;
  references: ReferenceResolver;
  text: TextPreparer;
  /** Silence between sentences. */
  pauseMs: number;
  /** Longest text per request, all items together. */
  maxTextLength: number;
  /** Longest transcript of a reference (ref_text); it goes through the model with every sentence. */
  maxReferenceTextLength?: number;
  /** The most frames a request may ask for per sentence (TTS_MAX_NEW_TOKENS). */
  maxNewTokens?: number;
  logger?: Logger;
  observer?: WorkObserver;
  /** Finished speech for requests whose client chose the seed; absent: nothing is kept. */
  results?: SpeechResultCache;
  /**
   * How long a finished sentence may wait for its client before the request gives its engine slot
   * up (EngineSlot); default 1000 ms.
   */
  slotGraceMs?: number;
}

interface PreparedItem {
  item: SpeechItem;
  sentences: string[];
  voice: VoicePrompt;
}

/** A request that passed admission and validation; its audio is produced as `events` is read. */
export interface OpenedSpeech {
  items: { text: string; sentences: string[] }[];
  sampleRate: number;
  /** Advice about the reference recordings (clipping, noise, too little speech); empty when none. */
  referenceWarnings: string[];
  /** The audio is a replay of an identical earlier request (same text, voice, seed and settings). */
  fromCache: boolean;
  /** How the request waited for its engine slot (told to the client in X-Queue-* headers). */
  queue: QueueTicket;
  events: AsyncIterable<SpeechEvent>;
}

/**
 * The speech use case, independent of HTTP and of any concrete engine: validate and prepare the
 * text, compute each distinct voice prompt once, then stream sentence after sentence from the
 * engine, seeding sentence i with seed + i and inserting a short pause between sentences.
 */
export class SpeechService {
  /** Each job's references, resolved once even when asked for twice (identity, then open). */
  private readonly resolved = new WeakMap<SpeechJob, Promise<Map<string, ReferenceAudio>>>();

  constructor(private readonly options: SpeechServiceOptions) {}

  get engine(): TtsEngine {
    return this.options.engine;
  }

  /**
   * Waits for an engine slot, then does everything that can fail because of the input (text,
   * reference audio, voice prompt) before any audio is produced, so such failures are plain 4xx
   * answers rather than errors in the middle of a stream. The slot is held while the engine works
   * for the request: a client that falls behind gives it up between sentences (EngineSlot).
   */
  async open(job: SpeechJob, signal: AbortSignal): Promise<OpenedSpeech> {
    const arrivedAt = performance.now();
    const prepared = this.prepareText(job);
    await this.ensureModel(job.model);
    // Downloads and decoding happen before the slot: a slow URL must not hold the engine.
    const referenceWarnings = new Set<string>();
    const references = await this.resolveReferences(job, signal, referenceWarnings);
    const { release, ticket } = await this.options.admission.admit(signal, job.client);
    let handedOver = false;
    try {
      const items = await this.prepareVoices(job, prepared, references, signal);
      const sampleRate = this.options.engine.capabilities.sampleRate;
      const opened = {
        items: items.map((entry) => ({ text: entry.item.text, sentences: entry.sentences })),
        sampleRate,
        referenceWarnings: [...referenceWarnings],
        queue: ticket,
      };
      const cacheKey = this.resultKey(job, items);
      const cached = cacheKey === undefined ? undefined : this.options.results?.get(cacheKey);
      if (cached) {
        release();
        handedOver = true;
        this.options.observer?.speechFinished({
          model: job.model,
          outcome: 'cached',
          firstAudioSeconds: (performance.now() - arrivedAt) / 1000,
          audioSeconds:
            cached.reduce((sum, event) => sum + (event.type === 'audio' ? event.samples.length : 0), 0) /
            sampleRate,
          generationSeconds: 0,
        });
        return { ...opened, fromCache: true, events: replay(cached, signal) };
      }
      const slot = new EngineSlot(this.options.admission, release, this.options.slotGraceMs ?? 1000);
      const events = this.produce(job, items, sampleRate, signal, slot, arrivedAt);
      handedOver = true;
      return {
        ...opened,
        fromCache: false,
        events: cacheKey === undefined ? events : this.remembering(events, cacheKey),
      };
    } finally {
      if (!handedOver) release();
    }
  }

  /** What identifies the audio exactly, when it may be cached. */
  private resultKey(job: SpeechJob, items: PreparedItem[]): string | undefined {
    if (!this.options.results || !job.repeatable) return undefined;
    return SpeechResultCache.key({
      engine: this.options.engine.name,
      model: job.model,
      language: job.language,
      seed: job.seed,
      sampling: job.sampling,
      streaming: job.streaming,
      pauseMs: this.options.pauseMs,
      items: items.map((entry) => ({
        sentences: entry.sentences,
        voice: entry.voice.id,
        x: entry.voice.xVectorOnly,
        language: entry.item.language,
      })),
    });
  }

  /** Passes the events on, and keeps them once the stream has ended normally (never a partial one). */
  private async *remembering(events: AsyncIterable<SpeechEvent>, key: string): AsyncGenerator<SpeechEvent> {
    const seen: SpeechEvent[] = [];
    for await (const event of events) {
      seen.push(event);
      yield event;
    }
    this.options.results?.set(key, seen);
  }

  private prepareText(job: SpeechJob): { item: SpeechItem; sentences: string[] }[] {
    const { maxNewTokens } = this.options;
    if (maxNewTokens !== undefined && (job.sampling.maxNewTokens ?? 0) > maxNewTokens) {
      throw new InvalidInputError(
        `generation_params.max_new_tokens is ${job.sampling.maxNewTokens}; this server allows at most ${maxNewTokens} ` +
          '(TTS_MAX_NEW_TOKENS). Ask for fewer, or leave it out for the model default.',
        { code: 'max_new_tokens_too_large', statusCode: 422 },
      );
    }
    const maxReference = this.options.maxReferenceTextLength;
    const longest = Math.max(...job.items.map((item) => (job.xVectorOnly ? 0 : item.referenceText.length)));
    if (maxReference !== undefined && longest > maxReference) {
      throw new InvalidInputError(
        `ref_text is ${longest} characters long; the limit is ${maxReference} (MAX_REF_TEXT_LENGTH). ` +
          'Send the transcript of the reference recording only (a few seconds of speech).',
        { code: 'ref_text_too_long', statusCode: 413 },
      );
    }
    const totalLength = job.items.reduce((sum, item) => sum + item.text.length, 0);
    if (totalLength > this.options.maxTextLength) {
      throw new InvalidInputError(
        `text is ${totalLength} characters long; the limit is ${this.options.maxTextLength} (MAX_TEXT_LENGTH). ` +
          'Split it into several requests.',
        { code: 'text_too_long', statusCode: 413 },
      );
    }
    return job.items.map((item, index) => {
      const where = job.items.length > 1 ? `text[${index}]` : 'text';
      if (item.text.trim() === '') {
        throw new InvalidInputError(`${where} is empty: send the words to speak.`, {
          code: 'empty_text',
          statusCode: 422,
        });
      }
      const prepared = this.options.text.prepare(item.text, {
        language: item.language ?? job.language,
        split: job.splitSentences,
        normalize: job.normalize,
        pronunciations: job.pronunciations,
      });
      // Punctuation-only pieces ("...", "?!") carry nothing to voice; engines would only make noise of them.
      const sentences = prepared.sentences.filter((sentence) => /[\p{L}\p{N}]/u.test(sentence));
      if (sentences.length === 0) {
        throw new InvalidInputError(`${where} has nothing that can be spoken (only spaces or symbols).`, {
          code: 'empty_text',
          statusCode: 422,
        });
      }
      return { item, sentences };
    });
  }

  /**
   * Loads the model on first use, as a request for it needs; the engine says how to install it (or
   * start it) when it cannot.
   */
  async ensureModel(model: SpeechJob['model']): Promise<void> {
    if (this.options.engine.loadedModels().includes(model)) return;
    await this.options.engine.loadModel(model);
  }

  /** A ref_audio value as a request would resolve it (path, URL or base64), or the error it would get. */
  resolveReference(value: string, signal: AbortSignal): Promise<ReferenceAudio> {
    return this.options.references.resolve(value, signal);
  }

  /**
   * What decides this job's audio exactly — the model's weights, the prepared text, the references'
   * samples and transcripts, seed and settings — as a hash; undefined when the audio is not
   * repeatable (no seed chosen) or the engine cannot name its weights. Resolves the references (once
   * per job: `open` reuses them), so bad ones fail here as they would there.
   */
  async identity(job: SpeechJob, signal: AbortSignal): Promise<string | undefined> {
    if (!job.repeatable) return undefined;
    const prepared = this.prepareText(job);
    await this.ensureModel(job.model);
    const weights = this.options.engine.modelIdentity?.(job.model);
    if (weights === undefined) return undefined;
    const references = await this.resolveReferences(job, signal, new Set());
    return SpeechResultCache.key({
      engine: this.options.engine.name,
      weights,
      model: job.model,
      language: job.language,
      seed: job.seed,
      sampling: job.sampling,
      xVectorOnly: job.xVectorOnly,
      pauseMs: this.options.pauseMs,
      items: prepared.map(({ item, sentences }) => ({
        sentences,
        language: item.language,
        reference: references.get(item.referenceAudio)!.hash,
        transcript: job.xVectorOnly ? '' : item.referenceText,
      })),
    });
  }

  /** Each distinct ref_audio resolved once (downloaded, decoded, checked), before any engine work. */
  private async resolveReferences(
    job: SpeechJob,
    signal: AbortSignal,
    warnings: Set<string>,
  ): Promise<Map<string, ReferenceAudio>> {
    let resolving = this.resolved.get(job);
    if (!resolving) {
      resolving = (async () => {
        const references = new Map<string, ReferenceAudio>();
        for (const item of job.items) {
          if (references.has(item.referenceAudio)) continue;
          references.set(
            item.referenceAudio,
            await this.options.references.resolve(item.referenceAudio, signal),
          );
        }
        return references;
      })();
      this.resolved.set(job, resolving);
    }
    const references = await resolving;
    for (const reference of references.values())
      for (const warning of reference.warnings ?? []) warnings.add(warning);
    return references;
  }

  /** One voice prompt per distinct (reference, transcript); engines also cache them across requests. */
  private async prepareVoices(
    job: SpeechJob,
    prepared: { item: SpeechItem; sentences: string[] }[],
    references: Map<string, ReferenceAudio>,
    signal: AbortSignal,
  ): Promise<PreparedItem[]> {
    const prompts = new Map<string, VoicePrompt>();
    // Sequential on purpose: references are usually one and the same, and the engine works one at a time.
    const result: PreparedItem[] = [];
    for (const entry of prepared) {
      const { item } = entry;
      const key = `${item.referenceAudio}\u0000${job.xVectorOnly ? '' : item.referenceText}`;
      let voice = prompts.get(key);
      if (!voice) {
        voice = await this.options.engine.prepareVoice(
          {
            model: job.model,
            reference: references.get(item.referenceAudio)!,
            referenceText: item.referenceText,
            xVectorOnly: job.xVectorOnly,
          },
          signal,
        );
        prompts.set(key, voice);
      }
      result.push({ ...entry, voice });
    }
    return result;
  }

  private async *produce(
    job: SpeechJob,
    items: PreparedItem[],
    sampleRate: number,
    signal: AbortSignal,
    slot: EngineSlot,
    arrivedAt: number,
  ): AsyncGenerator<SpeechEvent> {
    const startedAt = performance.now();
    let firstAudioAt: number | undefined;
    let samplesOut = 0;
    let completed = false;
    let failed = false;
    try {
      const pause = new Float32Array(Math.round((this.options.pauseMs / 1000) * sampleRate));
      for (let itemIndex = 0; itemIndex < items.length; itemIndex += 1) {
        const { item, sentences, voice } = items[itemIndex];
        yield { type: 'item-start', itemIndex, sentences };
        let produced = 0;
        for (let sentenceIndex = 0; sentenceIndex < sentences.length; sentenceIndex += 1) {
          if (signal.aborted) throw new CancelledError();
          const sentence = sentences[sentenceIndex];
          await slot.hold(signal);
          // The engine's sentence is read to its end at the engine's pace, so that its slot can go to
          // another request while this client is behind (a reader that stalls must not starve others).
          const stream = readAhead(
            (sentenceSignal) =>
              this.options.engine.generate(
                {
                  model: job.model,
                  text: sentence,
                  language: item.language ?? job.language,
                  voice,
                  sampling: { ...job.sampling, seed: job.seed + sentenceIndex },
                  streaming: job.streaming,
                },
                sentenceSignal,
              ),
            signal,
            () => slot.engineIdle(),
          );
          let firstPart = true;
          for await (const part of stream) {
            const samples = this.audioOf(part, sampleRate);
            if (!samples || samples.length === 0) continue;
            // The pause goes before a sentence's first audio, so a player that plays parts back to back hears it.
            const withPause =
              firstPart && sentenceIndex > 0 && pause.length > 0 ? concat(pause, samples) : samples;
            firstPart = false;
            firstAudioAt ??= performance.now();
            produced += withPause.length;
            samplesOut += withPause.length;
            yield { type: 'audio', itemIndex, sentenceIndex, sentence, samples: withPause, sampleRate };
          }
        }
        yield { type: 'item-end', itemIndex, samples: produced };
      }
      completed = true;
    } catch (error) {
      failed = !signal.aborted && !(error instanceof CancelledError);
      throw error;
    } finally {
      slot.giveUp();
      this.options.observer?.speechFinished({
        model: job.model,
        // A consumer that stops reading (a client gone) ends the stream early without an error.
        outcome: completed ? 'ok' : failed ? 'failed' : 'cancelled',
        firstAudioSeconds: firstAudioAt === undefined ? undefined : (firstAudioAt - arrivedAt) / 1000,
        audioSeconds: samplesOut / sampleRate,
        generationSeconds: (performance.now() - startedAt) / 1000,
      });
    }
  }

  private audioOf(part: SpeechStreamPart, sampleRate: number): Float32Array | undefined {
    if (part.type === 'audio-start' && part.sampleRate !== sampleRate) {
      throw new EngineFailedError(
        `engine ${this.options.engine.name} streamed ${part.sampleRate} Hz audio but declared ${sampleRate} Hz`,
      );
    }
    return part.type === 'audio-delta' ? part.samples : undefined;
  }
}

function concat(first: Float32Array, second: Float32Array): Float32Array {
  const joined = new Float32Array(first.length + second.length);
  joined.set(first, 0);
  joined.set(second, first.length);
  return joined;
}

/** Reads a whole opened stream into one waveform per item. */
export async function collectSpeech(opened: OpenedSpeech): Promise<Float32Array[]> {
  const chunks: Float32Array[][] = opened.items.map(() => []);
  for await (const event of opened.events) {
    if (event.type === 'audio') chunks[event.itemIndex].push(event.samples);
  }
  return chunks.map(joinSamples);
}

/** A cached answer, streamed as if generated (a client leaving still stops it). */
async function* replay(events: SpeechEvent[], signal: AbortSignal): AsyncGenerator<SpeechEvent> {
  for (const event of events) {
    if (signal.aborted) throw new CancelledError();
    yield event;
  }
}
