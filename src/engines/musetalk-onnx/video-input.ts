import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidInputError } from '../../errors.ts';
import { VIDEO_ENCODING } from '../../media/video-encoder.ts';
import { decodeVideoFrames, RawVideoFrames } from '../../media/video-frames.ts';
import { probeVideoFile, type VideoProbe } from '../../media/video-probe.ts';

/** Limits on avatar videos, each checked before any frame is decoded (see config.ts). */
export interface VideoAvatarLimits {
  /** VIDEO_AVATAR_MAX_BYTES */
  maxBytes: number;
  /** VIDEO_AVATAR_MAX_SECONDS */
  maxSeconds: number;
  /** VIDEO_AVATAR_MAX_FRAMES, counted at the output's 25 fps. */
  maxFrames: number;
  /** VIDEO_AVATAR_MAX_PIXELS: the source frame's width × height. */
  maxPixels: number;
  /** VIDEO_MAX_SIDE: frames are scaled down to it, as photos are. */
  maxSide: number;
}

/** An avatar video decoded to 25 fps RGB frames in a temporary folder; `close` removes it. */
export interface AvatarVideo {
  /** sha256 of the uploaded bytes: keys the prepared-avatar cache. */
  hash: string;
  width: number;
  height: number;
  frames: RawVideoFrames;
  close(): Promise<void>;
}

/** ffmpeg's demuxers for MP4/MOV and for WebM (Matroska's, which also reads .mkv). */
const CONTAINERS = [/\bmp4\b|\bmov\b/, /\bwebm\b/];

/**
 * Refuses a video over the limits, or not a video, with a 4xx that says which limit and how to fix it:
 * everything here is read from the container's header, in milliseconds.
 */
export function checkVideoProbe(probe: VideoProbe | undefined, limits: VideoAvatarLimits): VideoProbe {
  if (!probe || !CONTAINERS.some((container) => container.test(probe.container))) {
    throw new InvalidInputError(
      `avatar_video is ${probe ? `a ${probe.container} file` : 'not a video this server can read'}: send an MP4, MOV or WebM video`,
      { statusCode: 415, code: 'unsupported_video' },
    );
  }
  if (probe.width * probe.height > limits.maxPixels) {
    throw new InvalidInputError(
      `avatar_video is ${probe.width} × ${probe.height} pixels; the limit is ${limits.maxPixels} pixels per frame (VIDEO_AVATAR_MAX_PIXELS): scale it down`,
      { statusCode: 413, code: 'avatar_video_too_many_pixels' },
    );
  }
  if (probe.seconds !== undefined && probe.seconds > limits.maxSeconds + 1e-6) {
    throw new InvalidInputError(
      `avatar_video lasts ${probe.seconds.toFixed(2)} s; the limit is ${limits.maxSeconds} s (VIDEO_AVATAR_MAX_SECONDS): cut it shorter (a few seconds of natural motion loop well)`,
      { statusCode: 413, code: 'avatar_video_too_long' },
    );
  }
  const frames = probe.seconds === undefined ? 0 : Math.round(probe.seconds * VIDEO_ENCODING.fps);
  if (frames > limits.maxFrames) throw tooManyFrames(frames, limits);
  return probe;
}

function tooManyFrames(frames: number, limits: VideoAvatarLimits): InvalidInputError {
  return new InvalidInputError(
    `avatar_video has ${frames === 0 ? 'more than ' + limits.maxFrames : frames} frames at ${VIDEO_ENCODING.fps} fps; the limit is ${limits.maxFrames} (VIDEO_AVATAR_MAX_FRAMES): cut it shorter`,
    { statusCode: 413, code: 'avatar_video_too_many_frames' },
  );
}

function checkBytes(bytes: Buffer, limits: VideoAvatarLimits): void {
  if (bytes.length > limits.maxBytes) {
    throw new InvalidInputError(
      `avatar_video is ${bytes.length} bytes; the limit is ${limits.maxBytes} (VIDEO_AVATAR_MAX_BYTES)`,
      { statusCode: 413, code: 'avatar_too_large' },
    );
  }
}

/** Runs `use` on the bytes written to a temporary file (MP4 and MOV need a seekable input). */
async function withVideoFile<T>(
  bytes: Buffer,
  use: (file: string, folder: string) => Promise<T>,
): Promise<T> {
  const folder = await mkdtemp(path.join(tmpdir(), 'avatar-video-'));
  try {
    const file = path.join(folder, 'input');
    await writeFile(file, bytes);
    return await use(file, folder);
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

/** The request-time check: size and header only, no decoding. */
export async function checkAvatarVideo(bytes: Buffer, limits: VideoAvatarLimits): Promise<VideoProbe> {
  checkBytes(bytes, limits);
  const probe = await withVideoFile(bytes, async (file, folder) => {
    const result = await probeVideoFile(file);
    await rm(folder, { recursive: true, force: true });
    return result;
  });
  return checkVideoProbe(probe, limits);
}

/** The size the frames are decoded at: as photos, the longer side at most maxSide, even dimensions. */
export function decodedSize(probe: VideoProbe, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(probe.width, probe.height));
  const even = (value: number) => Math.max(2, value - (value % 2));
  return { width: even(Math.round(probe.width * scale)), height: even(Math.round(probe.height * scale)) };
}

/** Checks the video and decodes it to RGB frames at the output's 25 fps (ping-pong needs them all). */
export async function openAvatarVideo(bytes: Buffer, limits: VideoAvatarLimits): Promise<AvatarVideo> {
  checkBytes(bytes, limits);
  return withVideoFile(bytes, async (file, folder) => {
    const probe = checkVideoProbe(await probeVideoFile(file), limits);
    const { width, height } = decodedSize(probe, limits.maxSide);
    const raw = path.join(folder, 'frames.rgb');
    let count: number;
    try {
      count = await decodeVideoFrames(file, raw, {
        width,
        height,
        fps: VIDEO_ENCODING.fps,
        maxFrames: limits.maxFrames,
      });
    } catch (error) {
      throw new InvalidInputError(`avatar_video could not be decoded: ${(error as Error).message}`, {
        statusCode: 422,
        code: 'broken_video',
        cause: error,
      });
    }
    if (count === 0)
      throw new InvalidInputError('avatar_video has no frames that could be decoded', {
        statusCode: 422,
        code: 'broken_video',
      });
    // The header may not say how long it is (WebM recordings): the decoded count decides then.
    if (count > limits.maxFrames) throw tooManyFrames(0, limits);
    const frames = await RawVideoFrames.open(raw, width, height);
    return {
      hash: createHash('sha256').update(bytes).digest('hex'),
      width,
      height,
      frames,
      close: async () => {
        await frames.close();
        await rm(folder, { recursive: true, force: true });
      },
    };
  });
}
