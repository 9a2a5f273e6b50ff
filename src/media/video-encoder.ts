import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeWav } from '../audio/wav.ts';
import { CancelledError, EngineFailedError } from '../errors.ts';
import { spawnFfmpeg } from './ffmpeg.ts';

/**
 * Encoding settings: H.264 (libx264) at CRF 23 with the veryfast preset — near-transparent for a
 * talking head and fast enough for two cores — yuv420p so every player shows it, AAC at 128 kb/s,
 * 25 fps, and +faststart so the MP4 starts playing before it has fully downloaded.
 */
export const VIDEO_ENCODING = {
  crf: 23,
  preset: 'veryfast',
  pixelFormat: 'yuv420p',
  audioBitrate: '128k',
  fps: 25,
  /**
   * Seconds per segment of the live HLS stream: a keyframe starts every segment, so the first one is
   * playable as soon as this much video is encoded.
   */
  streamSegmentSeconds: 1,
} as const;

/** The live stream's playlist, inside the stream folder; its segments and init file sit beside it. */
export const STREAM_PLAYLIST = 'index.m3u8';
/** How often the playlist is read to notice its first segment (ffmpeg gives no other signal). */
const PLAYLIST_POLL_MS = 50;

/**
 * The stream's outputs: its own x264 encode of the same frames and speech (see startEncoder), so the
 * MP4 stays exactly as without a stream. A shared encode (the tee muxer) would make the MP4 3–6 times
 * larger: segments need a keyframe at every boundary (a fixed GOP
 * of one segment, no scene-cut keyframes), and x264 must not hold ~20 frames back (lookahead,
 * B-frames, frame threads) or the first segment would close only after nearly two seconds of video
 * were rendered — zerolatency hands each frame out as it is encoded. A second encode of a
 * talking head at veryfast costs little next to the lip-sync network (see bench/video-first-segment.ts).
 */
function streamOutputArguments(stream: { directory: string }): string[] {
  const { crf, pixelFormat, audioBitrate, fps, streamSegmentSeconds } = VIDEO_ENCODING;
  const gop = String(fps * streamSegmentSeconds);
  return [
    ...['-map', '0:v', '-map', '1:a'],
    // ultrafast: the second encode takes CPU from the render; the stream is watched once, so its
    // segments may be larger than the MP4's.
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', String(crf), '-pix_fmt', pixelFormat],
    ...['-tune', 'zerolatency', '-g', gop, '-keyint_min', gop, '-sc_threshold', '0'],
    ...['-c:a', 'aac', '-b:a', audioBitrate],
    ...['-f', 'hls', '-hls_time', String(streamSegmentSeconds), '-hls_segment_type', 'fmp4'],
    ...['-hls_playlist_type', 'event', '-hls_fmp4_init_filename', 'init.mp4'],
    // The playlist is replaced by a rename, so a reader never sees half of it.
    ...['-hls_flags', 'temp_file'],
    ...['-hls_segment_filename', path.join(stream.directory, 'segment-%05d.m4s')],
    path.join(stream.directory, STREAM_PLAYLIST),
  ];
}

export interface VideoEncoder {
  /** Queues one RGB frame (width × height × 3); resolves when ffmpeg has taken it (back-pressure). */
  writeFrame(rgb: Uint8Array): Promise<void>;
  /** Ends the video and returns the MP4. */
  finish(): Promise<Buffer>;
  abort(): void;
}

/**
 * Streams raw RGB frames into one ffmpeg process (no image file per frame) and muxes the speech in;
 * with `stream`, into a second one that writes the live HLS stream.
 * The audio goes through a temporary WAV; the MP4 is written to a temporary file because +faststart
 * rewrites the file's start, then read back. Width and height must be even (yuv420p).
 */
export async function createVideoEncoder(options: {
  width: number;
  height: number;
  speech: { samples: Float32Array; sampleRate: number };
  signal?: AbortSignal;
  /**
   * Also write a live HLS stream into this existing folder; `onPlayable` is called once, when the
   * playlist lists its first complete segment (at the latest when the video is finished).
   */
  stream?: { directory: string; onPlayable: () => void };
}): Promise<VideoEncoder> {
  const directory = await mkdtemp(path.join(tmpdir(), 'video-'));
  const audioFile = path.join(directory, 'speech.wav');
  const videoFile = path.join(directory, 'output.mp4');
  await writeFile(audioFile, encodeWav(options.speech.samples, options.speech.sampleRate));
  const { crf, preset, pixelFormat, audioBitrate, fps } = VIDEO_ENCODING;
  const inputs = [
    ...['-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${options.width}x${options.height}`],
    ...['-r', String(fps), '-i', 'pipe:0', '-i', audioFile],
  ];
  const encoders = [
    startEncoder('the video', [
      ...inputs,
      ...['-map', '0:v', '-map', '1:a'],
      ...['-c:v', 'libx264', '-preset', preset, '-crf', String(crf), '-pix_fmt', pixelFormat],
      ...['-c:a', 'aac', '-b:a', audioBitrate, '-movflags', '+faststart', videoFile],
    ]),
    ...(options.stream
      ? [startEncoder('the live stream', [...inputs, ...streamOutputArguments(options.stream)])]
      : []),
  ];
  const playable = watchPlaylist(options.stream);
  const cleanUp = () => {
    playable.stop();
    return rm(directory, { recursive: true, force: true });
  };
  const kill = () => {
    for (const { child } of encoders) child.kill('SIGKILL');
  };
  options.signal?.addEventListener('abort', kill, { once: true });
  return {
    async writeFrame(rgb) {
      if (options.signal?.aborted) throw new CancelledError();
      await Promise.all(encoders.map((encoder) => encoder.write(rgb)));
    },
    async finish() {
      for (const { child } of encoders) child.stdin.end();
      const codes = await Promise.all(encoders.map(({ exited }) => exited));
      options.signal?.removeEventListener('abort', kill);
      try {
        if (options.signal?.aborted) throw new CancelledError();
        codes.forEach((code, index) => {
          if (code !== 0)
            throw new EngineFailedError(
              `ffmpeg could not encode ${encoders[index].label} (exit ${code}): ${encoders[index].stderrTail()}`,
            );
        });
        // A video shorter than a segment has its only segment now, at the end.
        await playable.check();
        return await readFile(videoFile);
      } finally {
        await cleanUp();
      }
    },
    abort() {
      kill();
      void Promise.all(encoders.map(({ exited }) => exited)).then(cleanUp);
    },
  };
}

/**
 * One ffmpeg process taking raw frames on stdin. The MP4 and the live stream each get their own, fed
 * the same frames: in one process, ffmpeg reads the speech only as far as its slowest output has
 * got, so the MP4 encoder's lookahead would hold the stream's segments back by as many frames.
 */
function startEncoder(label: string, args: string[]) {
  const { child, stderrTail } = spawnFfmpeg(args);
  child.stdout.resume(); // the outputs are files; nothing is read from stdout
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  return {
    label,
    child,
    stderrTail,
    exited,
    /** Resolves when ffmpeg has taken the frame (back-pressure). */
    write(rgb: Uint8Array): Promise<void> {
      return new Promise((resolve, reject) => {
        const written = child.stdin.write(rgb, (error) =>
          error
            ? reject(new EngineFailedError(`ffmpeg stopped taking frames: ${stderrTail() || error.message}`))
            : undefined,
        );
        if (written) resolve();
        else child.stdin.once('drain', () => resolve());
      });
    },
  };
}

/**
 * Calls the stream's onPlayable once its playlist lists a segment. ffmpeg writes the playlist anew
 * (by rename) after each completed segment, so reading it every PLAYLIST_POLL_MS is enough.
 */
function watchPlaylist(stream: { directory: string; onPlayable: () => void } | undefined): {
  check: () => Promise<void>;
  stop: () => void;
} {
  if (!stream) return { check: async () => {}, stop: () => {} };
  let reported = false;
  const check = async () => {
    if (reported) return;
    const playlist = await readFile(path.join(stream.directory, STREAM_PLAYLIST), 'utf8').catch(() => '');
    if (reported || !playlist.includes('#EXTINF')) return;
    reported = true;
    clearInterval(timer);
    stream.onPlayable();
  };
  const timer = setInterval(() => void check(), PLAYLIST_POLL_MS);
  return { check, stop: () => clearInterval(timer) };
}
