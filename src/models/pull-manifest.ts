import { z } from 'zod';
import { MODEL_VARIANTS, type ModelVariant } from './model-registry.ts';

/**
 * The part of a model's manifest.json that installing and listing need: what it is, where it came
 * from, its precision variants and the sha256 of every file. Engines read the rest themselves
 * (docs/qwen3-onnx-layout.md); unknown fields pass through untouched.
 */

/** A path inside the model directory: relative, forward slashes, no `..`, nothing hidden at the top. */
const relativeFilePath = z
  .string()
  .min(1)
  .refine(
    (value) =>
      !value.startsWith('/') &&
      !value.includes('\\') &&
      !value.includes('\0') &&
      value.split('/').every((part) => part !== '' && part !== '.' && part !== '..') &&
      value !== 'manifest.json',
    'a relative path inside the model directory',
  );

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase sha256 hex digest');

const manifestSchema = z.looseObject({
  format: z.string().min(1),
  contractVersion: z.number().int().positive(),
  modelKey: z.string().min(1).optional(),
  source: z
    .looseObject({
      repository: z.string().optional(),
      revision: z.string().optional(),
      synthetic: z.boolean().optional(),
    })
    .optional(),
  variants: z.record(
    z.string(),
    z.looseObject({
      directory: relativeFilePath,
      dtype: z.enum(MODEL_VARIANTS),
    }),
  ),
  files: z.looseObject({
    // Keys are checked one by one so that a bad path is named in the message.
    sha256: z.record(z.string(), sha256Hex).superRefine((files, context) => {
      for (const file of Object.keys(files)) {
        const problem = relativeFilePath.safeParse(file).error?.issues[0]?.message;
        if (problem) context.addIssue({ code: 'custom', path: [file], message: problem });
      }
    }),
  }),
});

export type PullManifest = z.infer<typeof manifestSchema>;

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** Parses manifest.json text; a problem names the field and what it should hold. */
export function parsePullManifest(text: string, origin: string): PullManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`${origin} is not JSON: ${(error as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ManifestError(`${origin} is not a valid model manifest: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The variant names of a manifest whose dtype is `variant` (normally the one named after it). */
function variantDirectories(manifest: PullManifest): Map<ModelVariant, string> {
  const directories = new Map<ModelVariant, string>();
  for (const entry of Object.values(manifest.variants)) directories.set(entry.dtype, entry.directory);
  return directories;
}

export function manifestVariants(manifest: PullManifest): ModelVariant[] {
  return MODEL_VARIANTS.filter((variant) => variantDirectories(manifest).has(variant));
}

/**
 * The files a variant needs: those inside its directory plus every file outside all variant
 * directories (tokenizer, shared tables). Sorted, so downloads happen in a stable order.
 */
export function filesForVariants(manifest: PullManifest, variants: readonly ModelVariant[]): string[] {
  const directories = variantDirectories(manifest);
  const wanted = variants.map((variant) => directories.get(variant)).filter((value) => value !== undefined);
  const all = [...directories.values()];
  const inside = (file: string, directory: string) => file.startsWith(`${directory.replace(/\/+$/, '')}/`);
  return Object.keys(manifest.files.sha256)
    .filter(
      (file) => wanted.some((directory) => inside(file, directory)) || !all.some((d) => inside(file, d)),
    )
    .sort();
}
