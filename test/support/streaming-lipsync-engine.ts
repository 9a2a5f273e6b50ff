import type {
  LipsyncEngine,
  RenderRequest,
  RenderStreamPart,
} from '../../src/engines/interfaces/lipsync-engine.ts';
import type { EngineHealth } from '../../src/engines/interfaces/tts-engine.ts';
import { CancelledError } from '../../src/errors.ts';
import { createVideoEncoder, STREAM_PLAYLIST, VIDEO_ENCODING } from '../../src/media/video-encoder.ts';

/**
 * A lip-sync engine that renders no faces but encodes and streams like the embedded one: it writes
 * `seconds` of moving colour frames through the real video encoder (MP4 + live HLS), one frame every
 * `frameDelayMs`, so a test sees the stream become playable well before the render ends — without
 * the minutes of model loading and face detection a MuseTalk render costs.
 */
export class StreamingLipsyncEngine implements LipsyncEngine {
  readonly name = 'streaming-test-engine';
  readonly drivenBy = 'audio' as const;
  readonly requests: RenderRequest[] = [];

  constructor(
    private readonly options: { seconds: number; frameDelayMs: number; width?: number; height?: number },
  ) {}

  async health(): Promise<EngineHealth> {
    return { ok: true };
  }

  async listAvatars(): Promise<string[]> {
    return ['interviewer.jpg'];
  }

  async *render(request: RenderRequest, signal: AbortSignal): AsyncGenerator<RenderStreamPart> {
    this.requests.push(request);
    const { width = 160, height = 120, seconds, frameDelayMs } = this.options;
    const frames = Math.round(seconds * VIDEO_ENCODING.fps);
    const sampleRate = 16000;
    const speech = {
      samples: Float32Array.from(
        { length: Math.round(seconds * sampleRate) },
        (_value, index) => 0.2 * Math.sin(index / 6),
      ),
      sampleRate,
    };
    // Set by the encoder (from its playlist watch); told: the render-playable part went out.
    let playable = false;
    let told = false;
    const encoder = await createVideoEncoder({
      width,
      height,
      speech,
      signal,
      ...(request.stream
        ? { stream: { directory: request.stream.directory, onPlayable: () => (playable = true) } }
        : {}),
    });
    try {
      for (let index = 0; index < frames; index += 1) {
        if (signal.aborted) throw new CancelledError();
        const frame = new Uint8Array(width * height * 3).fill((index * 9) % 256);
        await encoder.writeFrame(frame);
        await new Promise((resolve) => setTimeout(resolve, frameDelayMs));
        if (playable && !told) {
          told = true;
          yield { type: 'render-playable', playlist: STREAM_PLAYLIST };
        }
        if (index % VIDEO_ENCODING.fps === 0)
          yield { type: 'render-progress', stage: 'lipsync', fraction: index / frames };
      }
    } catch (error) {
      encoder.abort();
      throw error;
    }
    const mp4 = await encoder.finish();
    // A video shorter than one segment becomes playable only as it is finished.
    if (playable && !told) yield { type: 'render-playable', playlist: STREAM_PLAYLIST };
    yield { type: 'render-end', mp4, avatarUsed: 'upload', notices: [] };
  }

  async close(): Promise<void> {}
}
