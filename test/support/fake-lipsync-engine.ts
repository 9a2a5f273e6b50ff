import type { EngineHealth } from '../../src/engines/spec/tts-engine.ts';
import type {
  LipsyncEngine,
  RenderRequest,
  RenderStreamPart,
} from '../../src/engines/spec/lipsync-engine.ts';

/** A test double of the lip-sync interface: records requests and returns recognisable bytes. */
export class FakeLipsyncEngine implements LipsyncEngine {
  readonly name = 'fake-lipsync';
  readonly requests: RenderRequest[] = [];
  /** When set, render fails with it after its first progress report. */
  failWith: Error | undefined;

  constructor(readonly drivenBy: 'audio' | 'text' = 'audio') {}

  /** What health() reports. */
  healthReport: EngineHealth = { ok: true };

  async health(): Promise<EngineHealth> {
    return this.healthReport;
  }

  async listAvatars(): Promise<string[]> {
    return ['interviewer.jpg', 'teacher.png'];
  }

  async *render(request: RenderRequest): AsyncGenerator<RenderStreamPart> {
    this.requests.push(request);
    yield { type: 'render-progress', stage: 'lipsync', fraction: 0.5 };
    if (this.failWith) throw this.failWith;
    const avatarUsed = request.avatar.kind === 'named' ? request.avatar.name : 'upload';
    const notices =
      this.drivenBy === 'text' && request.avatar.kind === 'image' ? ['avatar_image was not used'] : [];
    yield { type: 'render-end', mp4: Buffer.from('fake mp4 bytes'), avatarUsed, notices };
  }

  async close(): Promise<void> {}
}
