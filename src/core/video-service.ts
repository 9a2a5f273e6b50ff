import type { AvatarSource, LipsyncEngine, RenderStreamPart } from '../engines/interfaces/lipsync-engine.ts';
import { CancelledError, EngineFailedError, InvalidInputError, ServerError } from '../errors.ts';
import type { AdmissionQueue } from './admission.ts';
import type { SpeechJob } from './speech-job.ts';
import { SpeechResultCache } from './speech-result-cache.ts';
import { collectSpeech, type SpeechService } from './speech-service.ts';
import type { PendingVoice, VoiceCallbackLedger } from './voice-callbacks.ts';
import type { WorkObserver, WorkOutcome } from './work-observer.ts';
import type { VideoStreams } from './video-streams.ts';

export interface VideoJob {
  /** The speech to lip-sync: exactly one item. */
  speech: SpeechJob;
  avatar: AvatarSource;
  /** The form fields the client sent, to tell a chosen setting from a default one. */
  sentFields?: readonly string[];
}

export interface RenderedVideo {
  mp4: Buffer;
  avatarUsed: string;
  notices: string[];
  /** Request settings the engine could not honour (X-Ignored). */
  ignored: string[];
  /** Set when the video speaks with another voice than the clone and that was allowed: why. */
  voiceFallback?: string;
  /** Advice about the reference recording, as the speech service gave it. */
  referenceWarnings: string[];
  ttsSeconds: number;
  totalSeconds: number;
  /** Served from a stored render of an identical request (nothing was computed). */
  fromCache?: boolean;
}

/** Finished renders kept by what decides their pixels (see VideoService.renderKey). */
export interface StoredRenders {
  get(key: string): Promise<RenderedVideo | undefined>;
  /** Keeps a render; never fails the request (a full disk only means it is not kept). */
  put(key: string, video: RenderedVideo): Promise<void>;
}

export type VideoProgress = (stage: string, fraction?: number) => void;

/** The live stream of a video being rendered has its first segment: `playlist_url` can be played. */
export type VideoPlayable = (stream: { playlist_url: string }) => void;

/**
 * Text + voice + avatar → MP4. Engines driven by audio get our cloned speech first; engines driven by
 * text (NewAvata) synthesize their own, calling our TTS back.
 */
export class VideoService {
  constructor(
    private readonly options: {
      lipsync: LipsyncEngine;
      speech: SpeechService;
      admission: AdmissionQueue;
      observer?: WorkObserver;
      /** Where the TTS route records the callbacks of text-driven engines. */
      callbacks?: VoiceCallbackLedger;
      /** Answer a video whose engine fell back to another voice (said in the result) instead of failing. */
      allowFallbackVoice?: boolean;
      /** Renders of earlier identical requests; absent: every request is rendered. */
      renders?: StoredRenders;
      /** Folders for live streams of videos while they render; absent: no live streams. */
      streams?: VideoStreams;
    },
  ) {}

  /**
   * Settings of this request that the engine cannot honour: a text-driven engine that calls our TTS
   * back passes neither the seed nor x_vector_only_mode (so X-Seed is not sent when the seed is here).
   */
  ignoredSettings(job: VideoJob): string[] {
    const ignores = this.options.lipsync.speechCallback?.ignores ?? [];
    const ignored: string[] = [];
    if (ignores.includes('seed') && job.speech.repeatable) ignored.push('seed');
    // The form defaults x_vector_only_mode to true: only a value the client chose is worth reporting.
    if (ignores.includes('x_vector_only_mode') && job.sentFields?.includes('x_vector_only_mode'))
      ignored.push('x_vector_only_mode');
    return ignored;
  }

  /** Whether the seed decides the video (false for engines that cannot pass it on). */
  honoursSeed(): boolean {
    return !(this.options.lipsync.speechCallback?.ignores ?? []).includes('seed');
  }

  /**
   * What a text-driven engine's callback will need, checked before it starts (in milliseconds, not
   * after a render): a language it asks for, the model it will ask for, the reference it will send.
   */
  private async checkCallback(job: VideoJob, signal: AbortSignal): Promise<void> {
    const callback = this.options.lipsync.speechCallback;
    if (!callback) return;
    const name = callback.label;
    if (job.speech.language !== 'Auto' && !callback.languages.includes(job.speech.language)) {
      throw new InvalidInputError(
        `language ${job.speech.language} cannot be honoured: ${name} always asks this server for ` +
          `${callback.languages.join(' or ')} speech, so the text would be read as ${callback.languages[0]}. ` +
          `Send ${callback.languages[0]} text, or render with the embedded lip-sync engine (USE_NEWAVATA_API=false).`,
        { statusCode: 422, code: 'language_not_supported' },
      );
    }
    await this.options.speech.ensureModel(job.speech.model);
    try {
      await this.options.speech.resolveReference(callback.referenceAudio, signal);
    } catch (error) {
      if (error instanceof ServerError) {
        throw new ServerError(
          `${name} will send ref_audio=${JSON.stringify(callback.referenceAudio)} when it asks for the speech ` +
            `(its QWEN3_TTS_REF_AUDIO, NEWAVATA_REF_AUDIO here), and this server cannot use it: ${error.message}`,
          { statusCode: 503, code: 'callback_reference_missing', expose: true, cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * A text-driven engine that failed after our TTS refused its callback reports only its own words
   * ("TTS 생성 실패"): the user gets ours, which say what to fix.
   */
  private explainFailure(error: unknown, pending: PendingVoice | undefined): unknown {
    const refused = pending?.outcomes.find(({ outcome }) => !outcome.ok)?.outcome;
    const label = this.options.lipsync.speechCallback?.label;
    if (!refused || !label || !(error instanceof EngineFailedError)) return error;
    const ours = refused.status === 503 || (refused.status >= 400 && refused.status < 500);
    return new ServerError(
      `${error.message}, after ${label}'s call back to /tts/voice_clone was answered ` +
        `${refused.status}: ${refused.detail ?? 'no detail'}`,
      {
        statusCode: ours ? (refused.status === 503 ? 503 : 422) : 502,
        code: 'voice_callback_failed',
        expose: true,
        cause: error,
      },
    );
  }

  /** The live streams, for the route that serves them (undefined when streams are off). */
  get streams(): VideoStreams | undefined {
    return this.options.streams;
  }

  get engine(): LipsyncEngine {
    return this.options.lipsync;
  }

  /** The engine's refusal of this avatar (see LipsyncEngine.checkAvatar), before the job is taken. */
  async checkAvatar(avatar: AvatarSource): Promise<void> {
    await this.options.lipsync.checkAvatar?.(avatar);
  }

  listAvatars(): Promise<string[]> {
    return this.options.lipsync.listAvatars();
  }

  /** The lip-sync engine's health and its queue, for /health. */
  async status() {
    const health = await this.options.lipsync.health();
    return {
      name: this.options.lipsync.name,
      ok: health.ok,
      ...(health.message ? { message: health.message } : {}),
      queue: this.options.admission.snapshot(),
    };
  }

  async render(
    job: VideoJob,
    signal: AbortSignal,
    onProgress: VideoProgress = () => {},
    onPlayable?: VideoPlayable,
  ): Promise<RenderedVideo> {
    const startedAt = performance.now();
    const report = (outcome: WorkOutcome) =>
      this.options.observer?.videoFinished({
        engine: this.options.lipsync.name,
        outcome,
        seconds: (performance.now() - startedAt) / 1000,
      });
    try {
      const key = await this.renderKey(job, signal);
      const stored = key === undefined ? undefined : await this.options.renders?.get(key);
      if (stored) {
        onProgress('cache', 1);
        report('cached');
        return { ...stored, ttsSeconds: 0, totalSeconds: (performance.now() - startedAt) / 1000 };
      }
      const video = await this.renderOnce(job, signal, onProgress, startedAt, onPlayable);
      report('ok');
      if (key !== undefined) await this.options.renders?.put(key, video);
      return { ...video, fromCache: false };
    } catch (error) {
      if (signal.aborted || error instanceof CancelledError) report('cancelled');
      else report(error instanceof ServerError && error.statusCode < 500 ? 'rejected' : 'failed');
      throw error;
    }
  }

  /**
   * What decides the pixels of this request's video: the speech's identity (weights, prepared text,
   * reference samples, seed, settings) and the lip-sync engine's (its weights, the avatar's content).
   * Undefined — render, and keep nothing — when either cannot be known: no seed was chosen, a remote
   * engine, or a text-driven one that speaks for itself.
   */
  private async renderKey(job: VideoJob, signal: AbortSignal): Promise<string | undefined> {
    const { lipsync, renders } = this.options;
    if (!renders || lipsync.drivenBy !== 'audio' || !lipsync.renderIdentity) return undefined;
    const speech = await this.options.speech.identity(job.speech, signal);
    if (speech === undefined) return undefined;
    const pixels = await lipsync.renderIdentity(job.avatar);
    if (pixels === undefined) return undefined;
    return SpeechResultCache.key({ engine: lipsync.name, speech, pixels });
  }

  private async renderOnce(
    job: VideoJob,
    signal: AbortSignal,
    onProgress: VideoProgress,
    startedAt: number,
    onPlayable: VideoPlayable | undefined,
  ): Promise<RenderedVideo> {
    const lipsync = this.options.lipsync;
    const item = job.speech.items[0];
    let speech: { samples: Float32Array; sampleRate: number } | undefined;
    let ttsSeconds = 0;
    let referenceWarnings: string[] = [];
    const notices: string[] = [];
    if (lipsync.drivenBy === 'audio') {
      onProgress('tts', 0);
      const opened = await this.options.speech.open(job.speech, signal);
      referenceWarnings = opened.referenceWarnings;
      const [samples] = await collectSpeech(opened);
      speech = { samples, sampleRate: opened.sampleRate };
      ttsSeconds = (performance.now() - startedAt) / 1000;
      onProgress('tts', 1);
    } else {
      notices.push(
        `ref_audio was not used: ${lipsync.name} synthesizes the speech itself with its configured voice`,
      );
      await this.checkCallback(job, signal);
    }
    const ignored = this.ignoredSettings(job);
    // Text-driven engines that call us back: their callbacks are recorded against this render.
    const pending = lipsync.speechCallback ? this.options.callbacks?.expect(item.text) : undefined;
    try {
      return await this.runEngine(job, signal, onProgress, startedAt, {
        speech,
        ttsSeconds,
        referenceWarnings,
        notices,
        ignored,
        pending,
        onPlayable,
      });
    } finally {
      pending?.dispose();
    }
  }

  private runEngine(
    job: VideoJob,
    signal: AbortSignal,
    onProgress: VideoProgress,
    startedAt: number,
    state: {
      speech: { samples: Float32Array; sampleRate: number } | undefined;
      ttsSeconds: number;
      referenceWarnings: string[];
      notices: string[];
      ignored: string[];
      pending: PendingVoice | undefined;
      onPlayable: VideoPlayable | undefined;
    },
  ): Promise<RenderedVideo> {
    const lipsync = this.options.lipsync;
    const item = job.speech.items[0];
    const { speech, referenceWarnings, notices, ignored, pending, onPlayable } = state;
    let { ttsSeconds } = state;
    const streams = this.options.streams;
    return this.options.admission.run(
      async () => {
        let end: Extract<RenderStreamPart, { type: 'render-end' }> | undefined;
        // A folder for the live stream, made only when the render starts and someone will be told of it.
        const stream = onPlayable && streams ? await streams.create() : undefined;
        let playable = false;
        try {
          for await (const part of lipsync.render(
            {
              avatar: job.avatar,
              speech,
              text: item.text,
              language: job.speech.language,
              model: job.speech.model,
              ...(stream ? { stream: { directory: stream.directory } } : {}),
            },
            signal,
          )) {
            if (signal.aborted) throw new CancelledError();
            if (part.type === 'render-playable') {
              if (stream && !playable) onPlayable?.({ playlist_url: stream.playlistUrl });
              playable = true;
            } else if (part.type === 'render-progress') {
              onProgress(part.stage, part.fraction);
              if (part.stage === 'tts_done' && ttsSeconds === 0)
                ttsSeconds = (performance.now() - startedAt) / 1000;
            } else end = part;
          }
        } catch (error) {
          if (stream) await streams?.remove(stream.id);
          throw this.explainFailure(error, pending);
        } finally {
          // An engine that cannot stream left the folder empty: nothing to keep.
          if (stream && !playable) await streams?.remove(stream.id);
        }
        if (!end) throw new EngineFailedError(`${lipsync.name} finished without a video`);
        if (ttsSeconds === 0 && end.timings?.tts !== undefined) ttsSeconds = end.timings.tts / 1000;
        const verdict = pending?.verdict(lipsync.speechCallback?.label ?? lipsync.name);
        let voiceFallback: string | undefined;
        if (verdict && !verdict.ours) {
          if (!this.options.allowFallbackVoice) {
            throw new EngineFailedError(
              `the video was not answered because it does not speak with the cloned voice: ${verdict.reason}. ` +
                'Fix the cause and try again, or set NEWAVATA_ALLOW_FALLBACK_VOICE=true to accept such videos.',
              { statusCode: 502, code: 'voice_substituted' },
            );
          }
          voiceFallback = verdict.reason;
        }
        return {
          mp4: end.mp4,
          avatarUsed: end.avatarUsed,
          notices: [
            ...notices,
            ...end.notices,
            ...(voiceFallback ? [`not the cloned voice: ${voiceFallback}`] : []),
          ],
          ignored,
          ...(voiceFallback ? { voiceFallback } : {}),
          referenceWarnings,
          ttsSeconds,
          totalSeconds: (performance.now() - startedAt) / 1000,
        };
      },
      signal,
      job.speech.client,
    );
  }
}
