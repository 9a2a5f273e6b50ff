import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { CancelledError, InvalidInputError } from '../errors.ts';

let bundledPath: string | undefined;
let chosen: { source: FfmpegSource; path: string; version: string } | undefined;

/** Where the ffmpeg in use came from: set as FFMPEG_PATH, found on PATH, or the npm package's build. */
export type FfmpegSource = 'FFMPEG_PATH' | 'system' | 'bundled';

/**
 * The static build that the npm package @ffmpeg-installer/ffmpeg ships (from 2018), so that
 * `npm install` alone is enough. Throws where that package has no build for this platform.
 */
export function bundledFfmpegPath(): string {
  if (!bundledPath) {
    const require = createRequire(import.meta.url);
    try {
      bundledPath = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    } catch (error) {
      // The package throws strings ("Unsupported platform/architecture: …").
      throw new Error(
        `the bundled ffmpeg is not available: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
  return bundledPath;
}

/** Called once at startup with the ffmpeg that `chooseFfmpeg` picked (see ffmpeg-choice.ts). */
export function useFfmpeg(choice: { source: FfmpegSource; path: string; version: string }): void {
  chosen = { source: choice.source, path: choice.path, version: choice.version };
}

/**
 * The startup choice, path included, for worker threads: each thread has its own copy of this module,
 * so a worker that encodes (the lip-sync engine's) is handed the choice and passes it to useFfmpeg.
 */
export function ffmpegChoice(): { source: FfmpegSource; path: string; version: string } | undefined {
  return chosen && { ...chosen };
}

/** The ffmpeg in use, without its path (for /info); version null until startup has probed it. */
export function currentFfmpeg(): { source: FfmpegSource; version: string | null } {
  return chosen ? { source: chosen.source, version: chosen.version } : { source: 'bundled', version: null };
}

/**
 * The ffmpeg binary that every spawn uses: the one chosen at startup (FFMPEG_PATH, a recent enough
 * system ffmpeg, or the bundled build; see ffmpeg-choice.ts), else the bundled build.
 */
export function ffmpegPath(): string {
  return chosen?.path ?? bundledFfmpegPath();
}

export interface RunFfmpegOptions {
  input?: Buffer;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Output beyond this many bytes kills ffmpeg (a guard against decompression bombs). */
  maxOutputBytes?: number;
}

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

/**
 * ffmpeg with all three pipes, quiet but for errors. `stderrTail()` is the end of what it said, for
 * error messages. Writing to stdin after ffmpeg stopped reading is not an error of ours: its exit code
 * says why it stopped.
 */
export function spawnFfmpeg(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  stderrTail: () => string;
} {
  const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args]);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  child.stdin.on('error', () => {});
  return { child, stderrTail: () => stderr.trim() };
}

/** Runs ffmpeg with stdin/stdout pipes; resolves with stdout, rejects with the end of stderr. */
export function runFfmpeg(args: string[], options: RunFfmpegOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new CancelledError());
    const { child, stderrTail } = spawnFfmpeg(args);
    const chunks: Buffer[] = [];
    let outputBytes = 0;
    let failure: Error | undefined;
    const stop = (error: Error) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = options.timeoutMs
      ? setTimeout(() => stop(new FfmpegError('ffmpeg took too long', stderrTail())), options.timeoutMs)
      : undefined;
    const onAbort = () => stop(new CancelledError());
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (options.maxOutputBytes !== undefined && outputBytes > options.maxOutputBytes) {
        stop(new FfmpegError('ffmpeg produced more output than allowed', stderrTail()));
        return;
      }
      chunks.push(chunk);
    });
    child.on('error', (error) => stop(error));
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code !== 0) return reject(new FfmpegError(`ffmpeg exited with code ${code}`, stderrTail()));
      resolve(Buffer.concat(chunks));
    });
    if (options.input) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/**
 * Decodes any audio ffmpeg understands (MP3, FLAC, OGG, M4A, WAV …) from memory to mono float PCM at
 * `sampleRate`. Containers that need seeking (some M4A) still work from a pipe for reading.
 */
export async function decodeAudioWithFfmpeg(
  bytes: Buffer,
  options: { sampleRate: number; signal?: AbortSignal; timeoutMs?: number; maxSeconds?: number },
): Promise<Float32Array> {
  const maxSeconds = options.maxSeconds ?? 600;
  try {
    const output = await runFfmpeg(
      ['-i', 'pipe:0', '-vn', '-ac', '1', '-ar', String(options.sampleRate), '-f', 'f32le', 'pipe:1'],
      {
        input: bytes,
        signal: options.signal,
        timeoutMs: options.timeoutMs ?? 30000,
        // One second past the longest allowed duration is enough to say "too long" without decoding a bomb.
        maxOutputBytes: Math.ceil((maxSeconds + 1) * options.sampleRate * 4),
      },
    );
    return new Float32Array(output.buffer, output.byteOffset, Math.floor(output.length / 4)).slice();
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    if (error instanceof FfmpegError && /more output than allowed/.test(error.message)) {
      throw new InvalidInputError(`the audio is longer than ${maxSeconds} s`, {
        code: 'audio_too_long',
        statusCode: 422,
      });
    }
    const detail =
      error instanceof FfmpegError ? error.stderr.split('\n').pop() || error.message : String(error);
    throw new InvalidInputError(`the bytes are not audio that can be decoded (${detail})`, {
      code: 'invalid_audio',
      statusCode: 422,
      cause: error,
    });
  }
}
