import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { ffmpegPath } from '../../src/media/ffmpeg.ts';
import { singleFacePhoto } from './face-photos.ts';

export const FACE_VIDEO_SIDE = 256;

/**
 * A short avatar video at 25 fps made from one of face-api's demo photos: a 256 × 256 window that
 * slides `pan` pixels across the photo over `faceFrames` frames (so the face moves left by `pan`),
 * then `blackFrames` black frames (no face). Encoded as H.264 in MP4 or MOV, or VP8 in WebM.
 */
export async function faceVideo(
  options: { faceFrames?: number; blackFrames?: number; pan?: number; format?: 'mp4' | 'mov' | 'webm' } = {},
): Promise<Buffer> {
  const { faceFrames = 25, blackFrames = 3, pan = 48, format = 'mp4' } = options;
  const side = FACE_VIDEO_SIDE;
  const photo = await sharp(await singleFacePhoto(2))
    .resize({ height: side, width: side + pan, fit: 'cover' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const frameBytes = side * side * 3;
  const raw = Buffer.alloc((faceFrames + blackFrames) * frameBytes);
  for (let frame = 0; frame < faceFrames; frame += 1) {
    const left = Math.round((frame * pan) / Math.max(1, faceFrames - 1));
    for (let y = 0; y < side; y += 1) {
      const from = (y * photo.info.width + left) * 3;
      photo.data.copy(raw, frame * frameBytes + y * side * 3, from, from + side * 3);
    }
  }
  return execFileSync(
    ffmpegPath(),
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24'],
      ...['-s', `${side}x${side}`, '-r', '25', '-i', 'pipe:0'],
      ...(format === 'webm'
        ? ['-c:v', 'libvpx', '-b:v', '2M', '-f', 'webm']
        : [
            ...['-c:v', 'libx264', '-crf', '12', '-pix_fmt', 'yuv420p'],
            // Fragmented, so that MP4 and MOV can be written to a pipe (no index to seek back to).
            ...['-movflags', 'frag_keyframe+empty_moov', '-f', format],
          ]),
      'pipe:1',
    ],
    { input: raw, maxBuffer: 1 << 28 },
  );
}
