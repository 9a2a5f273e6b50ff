import type { EngineHealth } from '../../src/engines/interfaces/tts-engine.ts';
import { CancelledError } from '../../src/errors.ts';
import type {
  AvatarSource,
  LipsyncEngine,
  RenderRequest,
  RenderStreamPart,
} from '../../src/engines/interfaces/lipsync-engine.ts';

/** A test double of the lip-sync interface: records requests and returns recognisable bytes. */
export class FakeLipsyncEngine implements LipsyncEngine {
  readonly name = 'fake-lipsync';
  readonly requests: RenderRequest[] = [];
  /** When set, render fails with it after its first progress report. */
  failWith: Error | undefined;
  /** When set, render waits this long (or until cancelled) after its first progress report. */
  renderDelayMs = 0;
  /**
   * When set, the engine names what decides its pixels (these "weights" and the avatar), so its
   * renders may be stored; unset, like a remote engine, it names nothing and nothing is stored.
   */
  weights: string | undefined;

  constructor(readonly drivenBy: 'audio' | 'text' = 'audio') {}

  /** What health() reports. */
  healthReport: EngineHealth = { ok: true };

  async health(): Promise<EngineHealth> {
    return this.healthReport;
  }

  async listAvatars(): Promise<string[]> {
    return ['interviewer.jpg', 'teacher.png'];
  }

  async *render(request: RenderRequest, signal: AbortSignal): AsyncGenerator<RenderStreamPart> {
    this.requests.push(request);
    yield { type: 'render-progress', stage: 'lipsync', fraction: 0.5 };
    if (this.failWith) throw this.failWith;
    if (this.renderDelayMs > 0) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, this.renderDelayMs);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), { once: true });
      });
      if (signal.aborted) throw new CancelledError();
    }
    const avatarUsed = request.avatar.kind === 'named' ? request.avatar.name : 'upload';
    const notices =
      this.drivenBy === 'text' && request.avatar.kind === 'image' ? ['avatar_image was not used'] : [];
    yield { type: 'render-end', mp4: Buffer.from('fake mp4 bytes'), avatarUsed, notices };
  }

  async renderIdentity(avatar: AvatarSource): Promise<string | undefined> {
    if (this.weights === undefined) return undefined;
    const content = avatar.kind === 'image' ? avatar.bytes.toString('base64') : avatar.name;
    return `${this.weights}/${avatar.kind}/${content}`;
  }

  async close(): Promise<void> {}
}
