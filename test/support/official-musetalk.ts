import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/**
 * What the official MuseTalk v1.5 functions computed on real face photos and speech, with modules
 * built at random by the official classes (tools/export/musetalk/tiny_models.py,
 * official_goldens.py; rebuilt by tools/export/musetalk/make_fixtures.sh).
 */
export const MUSETALK_FIXTURES = fileURLToPath(new URL('../fixtures/musetalk-official/', import.meta.url));
const GOLDENS = path.join(MUSETALK_FIXTURES, 'goldens');

export interface StoredArray {
  file: string;
  shape: number[];
}

export interface MuseTalkFaceGolden {
  photo: string;
  detection: number[];
  box: [number, number, number, number];
  square: [number, number, number, number];
  crop: StoredArray;
  latents: StoredArray;
  windowFrame: number;
  predicted: StoredArray;
  decoded: StoredArray;
  generated: StoredArray;
  parserInput: StoredArray;
  classes: StoredArray;
  jaw: StoredArray;
  blurInput: StoredArray;
  blurKernel: [number, number];
  blurOutput: StoredArray;
  combined: StoredArray;
}

export interface MuseTalkGoldens {
  audio: {
    samples: number;
    videoFrames: number;
    mel: StoredArray;
    melTail: number | null;
    /** Per video frame, per window row: [whisper frame, hidden state], or null for zero padding. */
    windowSources: ([number, number] | null)[][];
    windows: Record<string, StoredArray>;
  };
  faces: MuseTalkFaceGolden[];
}

export async function readMuseTalkGoldens(): Promise<MuseTalkGoldens> {
  return JSON.parse(await readFile(path.join(GOLDENS, 'goldens.json'), 'utf8'));
}

export async function readGoldenArray(stored: StoredArray): Promise<Float32Array> {
  const bytes = await readFile(path.join(GOLDENS, stored.file));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** A golden PNG as raw pixels: RGB for colour images (stored as ordinary PNGs), one byte for masks. */
export async function readGoldenImage(stored: StoredArray): Promise<Uint8Array> {
  const channels = stored.shape.length === 3 ? 3 : 1;
  const image = sharp(path.join(GOLDENS, stored.file));
  const { data } = await (channels === 1 ? image.extractChannel(0) : image.removeAlpha())
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

/** A fixture photo's RGB pixels. */
export async function readFixturePhoto(
  name: string,
): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(path.join(MUSETALK_FIXTURES, name))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { rgb: new Uint8Array(data), width: info.width, height: info.height };
}

/** The largest absolute difference and how many values differ at all. */
export function compareBytes(ours: Uint8Array, official: Uint8Array): { largest: number; differing: number } {
  let largest = 0;
  let differing = 0;
  for (let index = 0; index < official.length; index += 1) {
    const difference = Math.abs(ours[index] - official[index]);
    if (difference > 0) differing += 1;
    largest = Math.max(largest, difference);
  }
  return { largest, differing };
}
