import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { hashModelFiles } from './file-hashes.ts';
import { MUSETALK_CONTRACT_VERSION, type MuseTalkManifest } from './musetalk-manifest.ts';

/**
 * Synthetic MuseTalk models in our layout (graph and tensor names of tools/export/musetalk/export.py),
 * small real computations with the real shapes: the VAE pools and un-pools the crop (so a decoded face
 * looks like a blurred copy of the photo), the UNet returns the reference latents with a mouth region
 * driven by the audio window (so the mouth changes from frame to frame and nothing else does), the
 * whisper encoder projects the log-mel frames into five hidden states, and the face parser labels a
 * face-shaped layout (skin, lips, mouth) so the blending mask is real.
 */
export interface SyntheticMuseTalkOptions {
  dtype: 'float32' | 'float16';
  size: 'tiny' | 'real';
}

const LATENT = 32;
const CROP = 256;
const PARSER = 512;
const STATES = 5;
const FEATURE = 384;

/** A 4×3 projection of RGB into latent channels, and its pseudo-inverse for the decoder. */
const ENCODE = [
  [0.5, 0.3, 0.2],
  [0.2, 0.5, 0.3],
  [0.3, 0.2, 0.5],
  [0.3, 0.3, 0.3],
];
const DECODE = pseudoInverse(ENCODE);

function pseudoInverse(matrix: number[][]): number[][] {
  // (AᵀA)⁻¹Aᵀ for a 4×3 matrix with independent columns.
  const transpose = matrix[0].map((_value, column) => matrix.map((row) => row[column]));
  const gram = transpose.map((row) =>
    transpose.map((other) => row.reduce((sum, value, index) => sum + value * other[index], 0)),
  );
  const inverse = invert3(gram);
  return inverse.map((row) =>
    transpose[0].map((_value, column) =>
      row.reduce((sum, value, index) => sum + value * transpose[index][column], 0),
    ),
  );
}

function invert3(m: number[][]): number[][] {
  const [a, b, c] = m[0];
  const [d, e, f] = m[1];
  const [g, h, i] = m[2];
  const determinant = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / determinant, (c * h - b * i) / determinant, (b * f - c * e) / determinant],
    [(f * g - d * i) / determinant, (a * i - c * g) / determinant, (c * d - a * f) / determinant],
    [(d * h - e * g) / determinant, (b * g - a * h) / determinant, (a * e - b * d) / determinant],
  ];
}

function vaeEncoder(): GraphBuilder {
  const g = new GraphBuilder('vae_encoder');
  const image = g.input('image', 'float32', ['batch', 3, CROP, CROP]);
  const pooled = g.op('AveragePool', [image], { kernel_shape: { ints: [8, 8] }, strides: { ints: [8, 8] } });
  const weights = g.float(ENCODE.flat(), [4, 3, 1, 1]);
  g.output(g.op('Conv', [pooled, weights]), 'latents', 'float32', ['batch', 4, LATENT, LATENT]);
  return g;
}

function vaeDecoder(): GraphBuilder {
  const g = new GraphBuilder('vae_decoder');
  const latents = g.input('latents', 'float32', ['batch', 4, LATENT, LATENT]);
  const rgb = g.op('Conv', [latents, g.float(DECODE.flat(), [3, 4, 1, 1])]);
  const upsampled = g.op('Resize', [rgb, '', g.float([1, 1, 8, 8])], { mode: { string: 'linear' } });
  // [-1, 1] → [0, 1], as the export's decoder returns it.
  const image = g.op('Clip', [
    g.op('Add', [g.op('Mul', [upsampled, g.float([0.5], [])]), g.float([0.5], [])]),
    g.float([0], []),
    g.float([1], []),
  ]);
  g.output(image, 'image', 'float32', ['batch', 3, CROP, CROP]);
  return g;
}

/**
 * Returns the reference latents with the mouth darkened in proportion to the loudness of the frame's
 * own Whisper frames (feature 0 of the window's rows 20–29, which the synthetic encoder fills with
 * loudness above silence): the mouth opens with speech and stays exactly as in the photo in silence.
 */
function unet(): GraphBuilder {
  const g = new GraphBuilder('unet');
  const latents = g.input('latents', 'float32', ['batch', 8, LATENT, LATENT]);
  const audio = g.input('audio', 'float32', ['batch', 50, FEATURE]);
  const reference = g.op('Slice', [latents, g.int64([4]), g.int64([8]), g.int64([1])]); // [B,4,32,32]
  // Rows 20–29 are time steps 4 and 5 of the window: the frame's own two Whisper frames.
  const current = g.op('Slice', [audio, g.int64([20, 0]), g.int64([30, 1]), g.int64([1, 2])]); // [B,10,1]
  const loudness = g.op('ReduceMean', [current], { axes: { ints: [1, 2] }, keepdims: { int: 0 } }); // [B]
  const opening = g.op('Unsqueeze', [loudness, g.int64([1, 2, 3])]); // [B,1,1,1]
  // The mouth: rows 17–22, columns 11–20 of the 32×32 latent (where the crop's mouth is), strongest in its middle.
  const mouth = new Float32Array(LATENT * LATENT);
  for (let row = 17; row < 23; row += 1)
    for (let column = 11; column < 21; column += 1)
      mouth[row * LATENT + column] = 1 - Math.abs(row - 19.5) / 4 - Math.abs(column - 15.5) / 8;
  const delta = g.op('Mul', [
    g.op('Mul', [opening, g.float([...mouth], [1, 1, LATENT, LATENT])]),
    g.float([-1.6], []),
  ]);
  g.output(g.op('Add', [reference, delta]), 'latents_out', 'float32', ['batch', 4, LATENT, LATENT]);
  return g;
}

/**
 * Five hidden states per Whisper frame: feature 0 of each is the frame's loudness above the quietest
 * frame of the segment (0 in silence, so a silent face stays still), the others a fixed projection of
 * the log-mel frame.
 */
function whisperEncoder(): GraphBuilder {
  const g = new GraphBuilder('whisper_encoder');
  const features = g.input('input_features', 'float32', ['batch', 80, 3000]);
  const pairs = g.op('ReduceMean', [g.op('Reshape', [features, g.int64([0, 80, 1500, 2])])], {
    axes: { ints: [3] },
    keepdims: { int: 0 },
  });
  const frames = g.op('Transpose', [pairs], { perm: { ints: [0, 2, 1] } }); // [B,1500,80]
  const projection = Float32Array.from(
    { length: 80 * STATES * FEATURE },
    (_value, index) => Math.sin(index * 78.233) * 0.3,
  );
  const projected = g.op('Tanh', [
    g.op('MatMul', [frames, g.float([...projection], [80, STATES * FEATURE])]),
  ]);
  const frameLevel = g.op('ReduceMean', [frames], { axes: { ints: [2] }, keepdims: { int: 1 } }); // [B,1500,1]
  const quietest = g.op('ReduceMin', [frameLevel], { axes: { ints: [1] }, keepdims: { int: 1 } }); // [B,1,1]
  const loudness = g.op('Sub', [frameLevel, quietest]);
  const loudnessSlots = new Float32Array(STATES * FEATURE);
  for (let state = 0; state < STATES; state += 1) loudnessSlots[state * FEATURE] = 1;
  const keep = Float32Array.from(loudnessSlots, (value) => 1 - value);
  const states = g.op('Add', [
    g.op('Mul', [projected, g.float([...keep], [STATES * FEATURE])]),
    g.op('Mul', [loudness, g.float([...loudnessSlots], [STATES * FEATURE])]),
  ]);
  g.output(g.op('Reshape', [states, g.int64([0, 1500, STATES, FEATURE])]), 'hidden_states', 'float32', [
    'batch',
    1500,
    STATES,
    FEATURE,
  ]);
  return g;
}

/** Class scores on a 64×64 grid, upsampled: background, a skin oval, lips and mouth in its lower middle. */
function faceParser(): GraphBuilder {
  const g = new GraphBuilder('face_parser');
  const image = g.input('image', 'float32', ['batch', 3, PARSER, PARSER]);
  const grid = 64;
  const layout = new Float32Array(19 * grid * grid);
  for (let y = 0; y < grid; y += 1) {
    for (let x = 0; x < grid; x += 1) {
      const at = (cls: number) => cls * grid * grid + y * grid + x;
      const dx = (x - 32) / 20;
      const dy = (y - 34) / 26;
      const insideFace = dx * dx + dy * dy < 1;
      layout[at(0)] = insideFace ? 0 : 5;
      layout[at(1)] = insideFace ? 4 : 0;
      if (insideFace && y >= 44 && y < 48 && Math.abs(x - 32) < 8) layout[at(12)] = 8;
      if (insideFace && y >= 48 && y < 50 && Math.abs(x - 32) < 8) layout[at(11)] = 8;
      if (insideFace && y >= 50 && y < 54 && Math.abs(x - 32) < 8) layout[at(13)] = 8;
      if (insideFace && y < 22) layout[at(17)] = 6;
    }
  }
  const upsampled = g.op('Resize', [g.float([...layout], [1, 19, grid, grid]), '', g.float([1, 1, 8, 8])], {
    mode: { string: 'nearest' },
  });
  // A little dependence on the image, so the graph reads its input as the real parser does.
  const brightness = g.op('ReduceMean', [image], { axes: { ints: [1] }, keepdims: { int: 1 } }); // [B,1,512,512]
  const logits = g.op('Add', [upsampled, g.op('Mul', [brightness, g.float([0.01], [])])]);
  g.output(logits, 'logits', 'float32', ['batch', 19, PARSER, PARSER]);
  return g;
}

export async function writeSyntheticMuseTalkModel(
  outDir: string,
  options: SyntheticMuseTalkOptions,
): Promise<MuseTalkManifest> {
  const variantDirectory = path.join(outDir, options.dtype);
  await mkdir(variantDirectory, { recursive: true });
  // Inputs and outputs are float32 in both variants (the export keeps float16 inside the graphs).
  for (const graph of [unet(), vaeEncoder(), vaeDecoder(), whisperEncoder(), faceParser()]) {
    await writeFile(path.join(variantDirectory, `${graph.name}.onnx`), graph.encode());
  }
  const manifest: MuseTalkManifest = {
    format: 'musetalk-onnx',
    contractVersion: MUSETALK_CONTRACT_VERSION,
    modelKey: 'musetalk',
    source: {
      repository: 'synthetic/musetalk',
      synthetic: true,
      size: options.size,
    } as MuseTalkManifest['source'],
    dimensions: {
      crop: CROP,
      latent: LATENT,
      latentChannels: 4,
      audioWindow: 50,
      audioFeature: FEATURE,
      whisperFrames: 3000,
      whisperMels: 80,
      whisperStates: STATES,
      whisperPositions: 1500,
      parserSize: PARSER,
      parserClasses: 19,
    },
    vae: { scalingFactor: 0.18215 },
    whisper: { sampleRate: 16000, nFft: 400, hop: 160 },
    variants: { [options.dtype]: { directory: options.dtype, dtype: options.dtype } },
    files: { sha256: await hashModelFiles(outDir) },
  };
  await writeFile(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}
