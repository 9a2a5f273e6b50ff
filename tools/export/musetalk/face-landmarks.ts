/**
 * Writes the face our lip-sync engine finds in a photo — face-api's box and 68 landmarks — as JSON,
 * for the Python tools: official_goldens.py feeds these landmarks to the official box rule, and
 * compare_landmarks.py measures them against the official DWPose + S3FD on the same photos.
 *
 *   npx tsx tools/export/musetalk/face-landmarks.ts photo.png [more.png …] > faces.json
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { detectFaces, selectDominantFace } from '../../../src/engines/musetalk-onnx/face-detector.ts';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npx tsx tools/export/musetalk/face-landmarks.ts photo.png [more …] > faces.json');
  process.exit(2);
}
const faces: Record<string, unknown> = {};
for (const file of files) {
  const { data, info } = await sharp(await readFile(file))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const face = selectDominantFace(await detectFaces(data, info.width, info.height));
  faces[path.basename(file)] = {
    width: info.width,
    height: info.height,
    box: face.box,
    landmarks: face.landmarks,
  };
}
process.stdout.write(`${JSON.stringify(faces, null, 1)}\n`);
