import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/** Our MuseTalk v1.5 ONNX layout (tools/export/musetalk/export.py writes it; docs/export.md lists the graphs). */
export const MUSETALK_CONTRACT_VERSION = 1;
export const MUSETALK_GRAPHS = [
  'unet',
  'vae_encoder',
  'vae_decoder',
  'whisper_encoder',
  'face_parser',
] as const;
export type MuseTalkGraph = (typeof MUSETALK_GRAPHS)[number];

const positiveInteger = z.number().int().positive();

export const museTalkManifestSchema = z.object({
  format: z.literal('musetalk-onnx'),
  contractVersion: z.literal(MUSETALK_CONTRACT_VERSION),
  modelKey: z.literal('musetalk'),
  source: z.object({ repository: z.string(), synthetic: z.boolean() }).passthrough(),
  dimensions: z.object({
    crop: positiveInteger,
    latent: positiveInteger,
    latentChannels: positiveInteger,
    audioWindow: positiveInteger,
    audioFeature: positiveInteger,
    whisperFrames: positiveInteger,
    whisperMels: positiveInteger,
    whisperStates: positiveInteger,
    whisperPositions: positiveInteger,
    parserSize: positiveInteger,
    parserClasses: positiveInteger,
  }),
  vae: z.object({ scalingFactor: z.number() }),
  whisper: z.object({ sampleRate: positiveInteger, nFft: positiveInteger, hop: positiveInteger }),
  variants: z.record(z.string(), z.object({ directory: z.string(), dtype: z.enum(['float32', 'float16']) })),
  files: z
    .object({ sha256: z.record(z.string(), z.string()) })
    .partial()
    .optional(),
});
export type MuseTalkManifest = z.infer<typeof museTalkManifestSchema>;

export async function readMuseTalkManifest(directory: string): Promise<MuseTalkManifest> {
  const file = path.join(directory, 'manifest.json');
  const parsed = museTalkManifestSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${file} does not match the MuseTalk ONNX layout: ${issue.path.join('.')}: ${issue.message}`,
    );
  }
  return parsed.data;
}
