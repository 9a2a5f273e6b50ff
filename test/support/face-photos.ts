import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { detectFaces } from '../../src/engines/musetalk-onnx/face-detector.ts';

/** face-api's npm package ships real photos (several people each); tests cut one face out of one. */
export function demoPhoto(index: number): string {
  const packageDirectory = path.dirname(
    createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json'),
  );
  return path.join(packageDirectory, 'demo', `sample${index}.jpg`);
}

/** A JPEG of one person: the largest face of a demo photo with a margin around it. */
export async function singleFacePhoto(index = 2): Promise<Buffer> {
  const { data, info } = await sharp(demoPhoto(index))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const [face] = await detectFaces(data, info.width, info.height);
  const margin = face.box.width * 0.6;
  const left = Math.max(0, Math.round(face.box.x - margin));
  const top = Math.max(0, Math.round(face.box.y - margin));
  const width = Math.min(info.width - left, Math.round(face.box.width + 2 * margin));
  const height = Math.min(info.height - top, Math.round(face.box.height + 2 * margin));
  return sharp(demoPhoto(index)).extract({ left, top, width, height }).jpeg({ quality: 92 }).toBuffer();
}
