import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/** The contract version this engine implements (docs/qwen3-onnx-layout.md). */
export const QWEN3_CONTRACT_VERSION = 3;

/** What changed at each version, for the error that an older model directory gets. */
const CONTRACT_CHANGES: Record<number, string> = {
  3: 'the talker reads a per-layer blocked KV cache (past_keys_<layer>, past_values_<layer>)',
};

/** The talker's cache inputs, one pair per layer (contract 3). */
export function talkerPastName(kind: 'keys' | 'values', layer: number): string {
  return `past_${kind}_${layer}`;
}

export const QWEN3_GRAPHS = [
  'text_embed',
  'talker',
  'code_predictor',
  'speaker_encoder',
  'codec_encoder',
  'codec_decoder',
] as const;
export type Qwen3Graph = (typeof QWEN3_GRAPHS)[number];

/**
 * A variant's precision: float32 and float16 graphs compute in that type; int4 and int8 graphs keep
 * float32 inputs, outputs and embedding tables, with weight-only quantized matmuls (com.microsoft
 * MatMulNBits) inside.
 */
export const QWEN3_VARIANT_DTYPES = ['float32', 'float16', 'int4', 'int8'] as const;
export type Qwen3VariantDtype = (typeof QWEN3_VARIANT_DTYPES)[number];

/** The float type a variant's graph inputs, outputs, KV cache and tables use. */
export function ioFloatType(dtype: Qwen3VariantDtype): 'float32' | 'float16' {
  return dtype === 'float16' ? 'float16' : 'float32';
}

const positiveInteger = z.number().int().positive();
const id = z.number().int().nonnegative();

export const qwen3ManifestSchema = z.object({
  format: z.literal('qwen3-tts-onnx'),
  contractVersion: z.literal(QWEN3_CONTRACT_VERSION),
  modelKey: z.enum(['base_0.6b', 'base_1.7b']),
  source: z
    .object({ repository: z.string(), revision: z.string().optional(), synthetic: z.boolean() })
    .passthrough(),
  dimensions: z.object({
    hidden: positiveInteger,
    layers: positiveInteger,
    kvHeads: positiveInteger,
    headDim: positiveInteger,
    vocabSize: positiveInteger,
    codeGroups: positiveInteger,
    codebookSize: positiveInteger,
    speakerEmbedding: positiveInteger,
    maxPositions: positiveInteger,
  }),
  /** How the official pipeline splits text before BPE (see SPLIT_PATTERNS in the tokenizer). */
  tokenizer: z.object({ splitPattern: z.enum(['qwen2', 'mistral-fix']) }),
  textTokens: z.object({ imStart: id, imEnd: id, ttsPad: id, ttsBos: id, ttsEos: id }),
  codecTokens: z.object({ pad: id, bos: id, eos: id, think: id, nothink: id, thinkBos: id, thinkEos: id }),
  languages: z.record(z.string(), id),
  audio: z.object({
    sampleRate: positiveInteger,
    samplesPerFrame: positiveInteger,
    decoderMaxFrames: positiveInteger,
    decoderLeftContext: z.number().int().nonnegative(),
    /** The codec decoder transformer's sliding window: the windowed streaming path's least context. */
    decoderAttentionWindow: z.number().int().nonnegative(),
  }),
  /**
   * The stateful streamed decoder (optional; older exports lack it): `codes` and `position` plus one
   * float32 `past.<name>` input per state, zeros at a sequence's start → `audio` of exactly the piece's
   * frames and `present.<name>` per state, fed back with the next piece.
   */
  codecDecoderStep: z
    .object({
      graph: z.literal('codec_decoder_step'),
      attentionWindow: positiveInteger,
      states: z.array(z.object({ name: z.string().min(1), shape: z.array(positiveInteger) })).min(1),
    })
    .optional(),
  speakerMel: z.object({
    sampleRate: positiveInteger,
    nFft: positiveInteger,
    hop: positiveInteger,
    window: positiveInteger,
    mels: positiveInteger,
    fMin: z.number(),
    fMax: z.number(),
  }),
  generation: z.object({
    doSample: z.boolean(),
    topK: positiveInteger,
    topP: z.number(),
    temperature: z.number(),
    repetitionPenalty: z.number(),
    maxNewTokens: positiveInteger,
    subtalker: z.object({
      doSample: z.boolean(),
      topK: positiveInteger,
      topP: z.number(),
      temperature: z.number(),
    }),
  }),
  variants: z.record(
    z.string(),
    z.object({
      directory: z.string(),
      dtype: z.enum(QWEN3_VARIANT_DTYPES),
      /** How a quantized variant was made (tools/export/qwen3/quantize.py); informative only. */
      quantization: z
        .object({ method: z.string(), bits: positiveInteger, blockSize: positiveInteger })
        .passthrough()
        .optional(),
    }),
  ),
  files: z
    .object({ sha256: z.record(z.string(), z.string()) })
    .partial()
    .optional(),
});
export type Qwen3Manifest = z.infer<typeof qwen3ManifestSchema>;

/** Reads and checks a model directory's manifest.json; problems name the file and the field. */
export async function readQwen3Manifest(directory: string): Promise<Qwen3Manifest> {
  const file = path.join(directory, 'manifest.json');
  const json: unknown = JSON.parse(await readFile(file, 'utf8'));
  const version = z.object({ contractVersion: z.number() }).safeParse(json);
  if (version.success && version.data.contractVersion < QWEN3_CONTRACT_VERSION) {
    const changes = Object.entries(CONTRACT_CHANGES)
      .filter(([since]) => Number(since) > version.data.contractVersion)
      .map(([since, change]) => `${since}: ${change}`);
    throw new Error(
      `${file} is an export for layout contract ${version.data.contractVersion}; this engine needs contract ${QWEN3_CONTRACT_VERSION} (${changes.join('; ')}). ` +
        'Export the model again with tools/export/qwen3/export.py, or write synthetic ones again with `models synth`.',
    );
  }
  const parsed = qwen3ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${file} does not match the Qwen3 ONNX layout (contract ${QWEN3_CONTRACT_VERSION}): ${issue.path.join('.')}: ${issue.message}`,
    );
  }
  return parsed.data;
}
