import { open, stat, type FileHandle } from 'node:fs/promises';
import { runFfmpeg } from './ffmpeg.ts';

/**
 * Decoded RGB frames kept in one raw file on disk and read back by index, so that a long avatar
 * video costs one frame of memory at a time instead of all of them (250 frames at 720 × 720 would be
 * 390 MB); the page cache keeps the reads fast.
 */
export class RawVideoFrames {
  readonly frameBytes: number;

  private constructor(
    private readonly file: FileHandle,
    readonly width: number,
    readonly height: number,
    readonly count: number,
  ) {
    this.frameBytes = width * height * 3;
  }

  static async open(file: string, width: number, height: number): Promise<RawVideoFrames> {
    const { size } = await stat(file);
    return new RawVideoFrames(await open(file, 'r'), width, height, Math.floor(size / (width * height * 3)));
  }

  /** Frame `index` (0-based) as H × W × 3 bytes. */
  async read(index: number): Promise<Uint8Array> {
    if (index < 0 || index >= this.count) throw new RangeError(`frame ${index} of ${this.count}`);
    const frame = new Uint8Array(this.frameBytes);
    await this.file.read(frame, 0, this.frameBytes, index * this.frameBytes);
    return frame;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

/**
 * Decodes a video file to raw RGB frames at `fps`, scaled to exactly width × height (the displayed
 * orientation: ffmpeg applies a rotation flag first), at most `maxFrames + 1` of them so that a caller
 * can tell "too long" from "exactly the limit" without decoding a bomb. Returns the frame count.
 */
export async function decodeVideoFrames(
  input: string,
  output: string,
  options: { width: number; height: number; fps: number; maxFrames: number; timeoutMs?: number },
): Promise<number> {
  await runFfmpeg(
    [
      '-i',
      input,
      '-an',
      '-sn',
      '-vf',
      `fps=${options.fps},scale=${options.width}:${options.height}:flags=lanczos,format=rgb24`,
      '-frames:v',
      String(options.maxFrames + 1),
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-y',
      output,
    ],
    { timeoutMs: options.timeoutMs ?? 120000 },
  );
  const { size } = await stat(output);
  return Math.floor(size / (options.width * options.height * 3));
}
