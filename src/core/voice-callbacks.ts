/**
 * Which voice a text-driven lip-sync engine really used. NewAvata synthesizes the speech of a render
 * by calling our /tts/voice_clone back, and when that call fails it silently speaks with another TTS
 * (CosyVoice, then ElevenLabs). Its callback carries no request id, so a render registers the text it
 * sent, the TTS route records every callback whose text is part of a registered one, and after the
 * render the verdict says whether all of its text was spoken by us.
 */
export interface CallbackOutcome {
  ok: boolean;
  status: number;
  /** What went wrong, for the user (our own error message). */
  detail?: string;
}

export type VoiceVerdict = { ours: true } | { ours: false; reason: string };

const normalize = (text: string) => text.replace(/\s+/g, ' ').trim();

export class PendingVoice {
  readonly outcomes: { text: string; outcome: CallbackOutcome }[] = [];

  constructor(
    readonly text: string,
    private readonly onDispose: (pending: PendingVoice) => void,
  ) {}

  matches(text: string): boolean {
    const piece = normalize(text);
    return piece !== '' && normalize(this.text).includes(piece);
  }

  /**
   * Ours when the last callback for every piece of text succeeded (NewAvata retries a failed piece
   * up to three times) and the pieces covered the text.
   */
  verdict(engine: string): VoiceVerdict {
    const last = new Map<string, CallbackOutcome>();
    for (const { text, outcome } of this.outcomes) last.set(normalize(text), outcome);
    const failure = [...last.values()].find((outcome) => !outcome.ok);
    if (failure) {
      return {
        ours: false,
        reason:
          `${engine}'s call back to /tts/voice_clone failed (${failure.status}: ` +
          `${failure.detail ?? 'no detail'}), so it spoke with its fallback TTS instead of the cloned voice`,
      };
    }
    if (last.size === 0) {
      return {
        ours: false,
        reason:
          `${engine} did not call this server back for the speech, so it spoke with another voice: point its ` +
          'QWEN3_TTS_API_URL at this server',
      };
    }
    const covered = [...last.keys()].reduce((sum, piece) => sum + piece.length, 0);
    if (covered < 0.9 * normalize(this.text).length) {
      return {
        ours: false,
        reason: `${engine} asked this server for only part of the text, so the rest has another voice`,
      };
    }
    return { ours: true };
  }

  dispose(): void {
    this.onDispose(this);
  }
}

export class VoiceCallbackLedger {
  private readonly pending = new Set<PendingVoice>();

  /** Registers a render's text until `dispose()`; callbacks for parts of it are recorded on it. */
  expect(text: string): PendingVoice {
    const pending = new PendingVoice(text, (done) => this.pending.delete(done));
    this.pending.add(pending);
    return pending;
  }

  /** Called by the TTS route for every answered request; returns whether a render was waiting for it. */
  record(text: string, outcome: CallbackOutcome): boolean {
    let matched = false;
    for (const pending of this.pending) {
      if (!pending.matches(text)) continue;
      pending.outcomes.push({ text, outcome });
      matched = true;
    }
    return matched;
  }
}
