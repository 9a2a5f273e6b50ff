import type { EngineHealth, Language, ModelKey } from './tts-engine.ts';

/** The face to animate: an uploaded image, or an avatar the engine already knows by name. */
export type AvatarSource =
  { kind: 'image'; bytes: Buffer; fileName?: string } | { kind: 'named'; name: string };

export interface RenderRequest {
  avatar: AvatarSource;
  /**
   * For engines driven by audio (`drivenBy: 'audio'`): the speech to lip-sync, mono float PCM.
   * The core synthesizes it with the TTS engine first.
   */
  speech?: { samples: Float32Array; sampleRate: number };
  /** For engines driven by text (`drivenBy: 'text'`, e.g. NewAvata, which does its own TTS). */
  text: string;
  language: Language;
  model: ModelKey;
}

export interface RenderProgressPart {
  type: 'render-progress';
  /** e.g. `tts`, `avatar`, `features`, `lipsync`, `encode`. */
  stage: string;
  /** 0..1 within the stage, when known. */
  fraction?: number;
}

export interface RenderEndPart {
  type: 'render-end';
  /** The finished MP4 (H.264 + AAC, 25 fps). */
  mp4: Buffer;
  /** The avatar actually used (a remote engine may pick another than asked). */
  avatarUsed: string;
  /** Things the client should know, e.g. that an uploaded image was not used. Sent as headers. */
  notices: string[];
  timings?: Record<string, number>;
}

export type RenderStreamPart = RenderProgressPart | RenderEndPart;

export interface LipsyncEngine {
  readonly name: string;
  /** `audio`: needs `speech` in the request; `text`: synthesizes speech itself. */
  readonly drivenBy: 'audio' | 'text';
  health(): Promise<EngineHealth>;
  /** Avatar names a client may pass instead of uploading an image. */
  listAvatars(): Promise<string[]>;
  render(request: RenderRequest, signal: AbortSignal): AsyncIterable<RenderStreamPart>;
  close(): Promise<void>;
}
