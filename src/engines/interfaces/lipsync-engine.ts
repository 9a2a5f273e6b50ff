import type { EngineHealth, Language, ModelKey } from './tts-engine.ts';

/**
 * The face to animate: an uploaded photo (`image`) or short video (`video`, MP4, MOV or WebM), or an
 * avatar the engine already knows by name. A request may carry both (`name` on an upload): engines
 * that cannot use photos take the name.
 */
export type AvatarSource =
  | { kind: 'image' | 'video'; bytes: Buffer; fileName?: string; name?: string }
  | { kind: 'named'; name: string };

/** Request settings a text-driven engine's callback to our TTS cannot carry. */
export type CallbackIgnorableSetting = 'seed' | 'x_vector_only_mode' | 'ref_audio' | 'ref_text';

/**
 * How a text-driven engine asks this server for speech (NewAvata calls /tts/voice_clone back), so a
 * request can be checked before the engine starts: the reference it will send must resolve here, its
 * language must be one the engine asks for, and settings it cannot pass on are reported.
 */
export interface SpeechCallback {
  /** The engine as users know it, for messages ("NewAvata"). */
  label: string;
  /** The ref_audio value the engine sends with each callback. */
  referenceAudio: string;
  /** The languages the engine asks for (NewAvata always says Korean). */
  languages: readonly Language[];
  /** What the engine's callback leaves out, so it has no effect. */
  ignores: readonly CallbackIgnorableSetting[];
}

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
  /**
   * Where to write a live HLS stream of the video while it renders (an empty folder the core made),
   * so that a client can start watching before the MP4 is finished. Engines that can (the embedded
   * MuseTalk) write `index.m3u8` with fMP4 segments there and report `render-playable` once its first
   * segment is complete; engines that cannot (NewAvata and other remote engines) ignore it and never
   * report it, and the client gets only the finished MP4.
   */
  stream?: { directory: string };
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

/** The HLS stream in `request.stream.directory` has its first segment: a player may start. */
export interface RenderPlayablePart {
  type: 'render-playable';
  /** The playlist's file name inside the stream folder (`index.m3u8`). */
  playlist: string;
}

export type RenderStreamPart = RenderProgressPart | RenderPlayablePart | RenderEndPart;

export interface LipsyncEngine {
  readonly name: string;
  /** `audio`: needs `speech` in the request; `text`: synthesizes speech itself. */
  readonly drivenBy: 'audio' | 'text';
  /** For text-driven engines that call this server's TTS back: what they send. */
  readonly speechCallback?: SpeechCallback;
  health(): Promise<EngineHealth>;
  /** Avatar names a client may pass instead of uploading an image. */
  listAvatars(): Promise<string[]>;
  render(request: RenderRequest, signal: AbortSignal): AsyncIterable<RenderStreamPart>;
  /**
   * Refuses an avatar this engine cannot render (a video where it takes none, one over its limits)
   * with a 4xx, before any work starts; absent: every avatar is tried.
   */
  checkAvatar?(avatar: AvatarSource): Promise<void>;
  /**
   * What decides this engine's pixels besides the speech — its model files and the avatar's content —
   * as a hash, so a stored render is served only for exactly these; undefined when they cannot be
   * known (a remote engine), and then nothing it renders is cached.
   */
  renderIdentity?(avatar: AvatarSource): Promise<string | undefined>;
  close(): Promise<void>;
}
