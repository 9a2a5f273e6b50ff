import type { AvatarSource, LipsyncEngine, RenderStreamPart } from '../engines/spec/lipsync-engine.ts';
import { CancelledError, EngineFailedError, ServerError } from '../errors.ts';
import type { AdmissionQueue } from './admission.ts';
import type { SpeechJob } from './speech-job.ts';
import { collectSpeech, type SpeechService } from './speech-service.ts';
import type { WorkObserver, WorkOutcome } from './work-observer.ts';

export interface VideoJob {
  /** The speech to lip-sync: exactly one item. */
  speech: SpeechJob;
  avatar: AvatarSource;
}

export interface RenderedVideo {
  mp4: Buffer;
  avatarUsed: string;
  notices: string[];
  /** Advice about the reference recording, as the speech service gave it. */
  referenceWarnings: string[];
  ttsSeconds: number;
  totalSeconds: number;
}

export type VideoProgress = (stage: string, fraction?: number) => void;

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
    },
  ) {}

  get engine(): LipsyncEngine {
    return this.options.lipsync;
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
  ): Promise<RenderedVideo> {
    const startedAt = performance.now();
    const report = (outcome: WorkOutcome) =>
      this.options.observer?.videoFinished({
        engine: this.options.lipsync.name,
        outcome,
        seconds: (performance.now() - startedAt) / 1000,
      });
    try {
      const video = await this.renderOnce(job, signal, onProgress, startedAt);
      report('ok');
      return video;
    } catch (error) {
      if (signal.aborted || error instanceof CancelledError) report('cancelled');
      else report(error instanceof ServerError && error.statusCode < 500 ? 'rejected' : 'failed');
      throw error;
    }
  }

  private async renderOnce(
    job: VideoJob,
    signal: AbortSignal,
    onProgress: VideoProgress,
    startedAt: number,
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
    }
    return this.options.admission.run(async () => {
      let end: Extract<RenderStreamPart, { type: 'render-end' }> | undefined;
      for await (const part of lipsync.render(
        {
          avatar: job.avatar,
          speech,
          text: item.text,
          language: job.speech.language,
          model: job.speech.model,
        },
        signal,
      )) {
        if (signal.aborted) throw new CancelledError();
        if (part.type === 'render-progress') {
          onProgress(part.stage, part.fraction);
          if (part.stage === 'tts_done' && ttsSeconds === 0)
            ttsSeconds = (performance.now() - startedAt) / 1000;
        } else end = part;
      }
      if (!end) throw new EngineFailedError(`${lipsync.name} finished without a video`);
      if (ttsSeconds === 0 && end.timings?.tts !== undefined) ttsSeconds = end.timings.tts / 1000;
      return {
        mp4: end.mp4,
        avatarUsed: end.avatarUsed,
        notices: [...notices, ...end.notices],
        referenceWarnings,
        ttsSeconds,
        totalSeconds: (performance.now() - startedAt) / 1000,
      };
    }, signal);
  }
}
