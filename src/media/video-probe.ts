import { spawn } from 'node:child_process';
import { ffmpegPath } from './ffmpeg.ts';

/** What ffmpeg reads from a video file's header, before any frame is decoded. */
export interface VideoProbe {
  /** ffmpeg's demuxer names, e.g. `mov,mp4,m4a,3gp,3g2,mj2` or `matroska,webm`. */
  container: string;
  /** undefined when the container does not say (live WebM recordings often do not). */
  seconds: number | undefined;
  /** As displayed: width and height swapped for a video recorded with a 90° rotation flag. */
  width: number;
  height: number;
}

/**
 * Reads the container, duration and first video stream's size with `ffmpeg -i` (the npm package has
 * no ffprobe). Undefined when ffmpeg finds no input it can read or no video stream in it.
 */
export function probeVideoFile(file: string, timeoutMs = 15000): Promise<VideoProbe | undefined> {
  return new Promise((resolve, reject) => {
    // Without an output ffmpeg only prints the input's description (and exits with 1).
    const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-i', file]);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 64000) stderr += chunk.toString('utf8');
    });
    child.stdout.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve(parseProbe(stderr));
    });
  });
}

/** The description `ffmpeg -i` prints, parsed; exported for tests. */
export function parseProbe(description: string): VideoProbe | undefined {
  const container = /Input #0, (.+?), from /.exec(description)?.[1];
  const stream = /Stream #0:\d+.*?: Video: .*?, (\d+)x(\d+)/.exec(description);
  if (!container || !stream) return undefined;
  const duration = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(description);
  // Old builds print the rotate tag, new ones the display matrix; both mean ffmpeg turns the frames.
  const rotation = Number(
    /rotate\s*:\s*(-?\d+)/.exec(description)?.[1] ??
      /rotation of (-?\d+(?:\.\d+)?) degrees/.exec(description)?.[1] ??
      0,
  );
  const turned = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  const [width, height] = [Number(stream[1]), Number(stream[2])];
  return {
    container,
    seconds: duration
      ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3])
      : undefined,
    width: turned ? height : width,
    height: turned ? width : height,
  };
}
