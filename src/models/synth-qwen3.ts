import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SeededRandom } from '../engines/qwen3-onnx/random.ts';
import { writeSyntheticTokenizer } from '../engines/qwen3-onnx/tokenizer.ts';
import { float32ToFloat16Bits, GraphBuilder, type ElementType } from '../onnx/graph-builder.ts';
import { hashModelFiles } from './file-hashes.ts';
import { QWEN3_CONTRACT_VERSION, type Qwen3Manifest } from './qwen3-manifest.ts';

/**
 * Synthetic Qwen3-TTS models in our exact ONNX layout (docs/qwen3-onnx-layout.md): the same files,
 * tensor names, ranks and dtypes as an export of the real checkpoints, with random weights. The graphs
 * are real computations of the contract — attention over the host-owned cache, the 15-step code
 * predictor with top-k and Gumbel sampling, codec encoding and chunked decoding — built so tests can
 * predict the loop: greedy c0 at absolute position p is (37p + 11) mod 2048, and EOS wins once the
 * position reaches `eosPosition`.
 */
export interface SyntheticQwen3Options {
  key: 'base_0.6b' | 'base_1.7b';
  dtype: 'float32' | 'float16';
  /** tiny: for tests; real: the real layer count and hidden size (random weights, for benchmarks). */
  size: 'tiny' | 'real';
  /** The absolute position from which the talker says end-of-speech. */
  eosPosition?: number;
  /** Keep large weights in `<graph>.onnx.data` beside each graph (always for real sizes, as real exports must). */
  externalData?: boolean;
}

const VOCAB = 3072;
const GROUPS = 16;
const CODEBOOK = 2048;
const TEXT_VOCAB = 151936;
const FRAME = 1920;
const CODEC = { pad: 2148, bos: 2149, eos: 2150, think: 2154, nothink: 2155, thinkBos: 2156, thinkEos: 2157 };
const LANGUAGES = {
  chinese: 2055,
  english: 2050,
  german: 2053,
  spanish: 2054,
  japanese: 2058,
  french: 2061,
  korean: 2064,
  russian: 2069,
  italian: 2070,
  portuguese: 2071,
};

interface Dimensions {
  hidden: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  textHidden: number;
}

function dimensionsFor(options: SyntheticQwen3Options): Dimensions {
  if (options.size === 'tiny')
    return { hidden: 16, layers: 2, kvHeads: 2, headDim: 8, intermediate: 32, textHidden: 8 };
  const hidden = options.key === 'base_1.7b' ? 2048 : 1024;
  // The text table is run once per request; a narrow one keeps the benchmark model's size sane.
  return {
    hidden,
    layers: 28,
    kvHeads: 8,
    headDim: 128,
    intermediate: options.key === 'base_1.7b' ? 6144 : 3072,
    textHidden: 64,
  };
}

class Weights {
  private readonly random: SeededRandom;
  constructor(seed: number) {
    this.random = new SeededRandom(seed);
  }
  /** Normal(0, scale²) values (Box–Muller). */
  normal(count: number, scale: number): Float32Array {
    const values = new Float32Array(count);
    for (let index = 0; index < count; index += 2) {
      const radius = Math.sqrt(-2 * Math.log(this.random.nextFloat()));
      const angle = 2 * Math.PI * this.random.nextFloat();
      values[index] = radius * Math.cos(angle) * scale;
      if (index + 1 < count) values[index + 1] = radius * Math.sin(angle) * scale;
    }
    return values;
  }
}

/** Graph I/O and weights in the variant's dtype; float16 variants cast at the edges. */
class VariantGraph {
  readonly graph: GraphBuilder;
  constructor(
    name: string,
    readonly dtype: ElementType,
  ) {
    this.graph = new GraphBuilder(name);
  }
  weight(values: Float32Array, dims: number[]): string {
    const stored = this.graph.tensor(values, dims, this.dtype);
    return this.dtype === 'float16' ? this.graph.op('Cast', [stored], { to: { int: 1 } }) : stored;
  }
  floatInput(name: string, dims: (number | string)[]): string {
    const value = this.graph.input(name, this.dtype, dims);
    return this.dtype === 'float16' ? this.graph.op('Cast', [value], { to: { int: 1 } }) : value;
  }
  floatOutput(value: string, name: string, dims: (number | string)[]): void {
    const cast = this.dtype === 'float16' ? this.graph.op('Cast', [value], { to: { int: 10 } }) : value;
    this.graph.output(cast, name, this.dtype, dims);
  }
}

function textEmbedGraph(dtype: ElementType, dims: Dimensions, weights: Weights): VariantGraph {
  const v = new VariantGraph('text_embed', dtype);
  const g = v.graph;
  const ids = g.input('input_ids', 'int64', [1, 'sequence']);
  const table = v.weight(weights.normal(TEXT_VOCAB * dims.textHidden, 1), [TEXT_VOCAB, dims.textHidden]);
  const projection = v.weight(weights.normal(dims.textHidden * dims.hidden, 1 / Math.sqrt(dims.textHidden)), [
    dims.textHidden,
    dims.hidden,
  ]);
  const embedded = g.op('Gather', [table, ids]);
  v.floatOutput(g.op('Tanh', [g.op('MatMul', [embedded, projection])]), 'embeds', [
    1,
    'sequence',
    dims.hidden,
  ]);
  return v;
}

function talkerGraph(
  dtype: ElementType,
  dims: Dimensions,
  weights: Weights,
  eosPosition: number,
): VariantGraph {
  const v = new VariantGraph('talker', dtype);
  const g = v.graph;
  const { hidden, layers, kvHeads, headDim, intermediate } = dims;
  const inner = kvHeads * headDim;
  let x = g.op('Squeeze', [v.floatInput('inputs_embeds', [1, 'sequence', hidden]), g.int64([0])]); // [S,H]
  const pastKeys = v.floatInput('past_keys', [layers, kvHeads, 'capacity', headDim]);
  const pastValues = v.floatInput('past_values', [layers, kvHeads, 'capacity', headDim]);
  const pastLength = g.input('past_length', 'int64', []);
  const sequence = g.op('Gather', [g.op('Shape', [x]), g.int64([0], [])]); // S
  const total = g.op('Add', [pastLength, sequence]);
  const zero = g.int64([0], []);
  const one = g.int64([1], []);
  const keyPositions = g.op('Range', [zero, total, one]);
  const queryPositions = g.op('Range', [pastLength, total, one]);
  const allowed = g.op('LessOrEqual', [
    g.op('Unsqueeze', [keyPositions, g.int64([0])]),
    g.op('Unsqueeze', [queryPositions, g.int64([1])]),
  ]);
  const maskBias = g.op('Where', [allowed, g.float([0], []), g.float([-1e9], [])]); // [S,total]
  const headsShape = g.op(
    'Concat',
    [g.op('Unsqueeze', [sequence, g.int64([0])]), g.int64([kvHeads, headDim])],
    { axis: { int: 0 } },
  );
  const scale = g.float([1 / Math.sqrt(headDim)], []);
  const newKeys: string[] = [];
  const newValues: string[] = [];
  const project = (input: string, rows: number, columns: number) =>
    g.op('MatMul', [input, v.weight(weights.normal(rows * columns, 1 / Math.sqrt(rows)), [rows, columns])]);
  const toHeads = (value: string) =>
    g.op('Transpose', [g.op('Reshape', [value, headsShape])], { perm: { ints: [1, 0, 2] } }); // [K,S,D]
  for (let layer = 0; layer < layers; layer += 1) {
    const normed = rmsNorm(g, x);
    const query = toHeads(project(normed, hidden, inner));
    const key = toHeads(project(normed, hidden, inner));
    const value = toHeads(project(normed, hidden, inner));
    newKeys.push(g.op('Unsqueeze', [key, g.int64([0])]));
    newValues.push(g.op('Unsqueeze', [value, g.int64([0])]));
    const slicePast = (cache: string) =>
      g.op('Slice', [
        g.op('Gather', [cache, g.int64([layer], [])], { axis: { int: 0 } }),
        g.int64([0]),
        g.op('Unsqueeze', [pastLength, g.int64([0])]),
        g.int64([1]),
      ]);
    const keys = g.op('Concat', [slicePast(pastKeys), key], { axis: { int: 1 } }); // [K,total,D]
    const values = g.op('Concat', [slicePast(pastValues), value], { axis: { int: 1 } });
    const scores = g.op('Add', [
      g.op('Mul', [g.op('MatMul', [query, g.op('Transpose', [keys], { perm: { ints: [0, 2, 1] } })]), scale]),
      maskBias,
    ]);
    const attended = g.op('MatMul', [g.op('Softmax', [scores], { axis: { int: -1 } }), values]); // [K,S,D]
    const merged = g.op('Reshape', [
      g.op('Transpose', [attended], { perm: { ints: [1, 0, 2] } }),
      g.int64([0, inner]),
    ]);
    x = g.op('Add', [x, project(merged, inner, hidden)]);
    x = g.op('Add', [
      x,
      project(g.op('Tanh', [project(rmsNorm(g, x), hidden, intermediate)]), intermediate, hidden),
    ]);
  }
  const lastIndex = g.op('Sub', [sequence, one]);
  const last = rmsNorm(
    g,
    g.op('Gather', [x, g.op('Unsqueeze', [lastIndex, g.int64([0])])], { axis: { int: 0 } }),
  ); // [1,H]
  // The scripted part: the greedy c0 at position p is (37p + 11) mod 2048; EOS from eosPosition on.
  const position = g.op('Sub', [total, one]);
  const target = g.op('Mod', [
    g.op('Add', [g.op('Mul', [position, g.int64([37], [])]), g.int64([11], [])]),
    g.int64([CODEBOOK], []),
  ]);
  const scripted = g.op(
    'OneHot',
    [g.op('Unsqueeze', [target, g.int64([0])]), g.int64([VOCAB], []), g.float([0, 20])],
    { axis: { int: -1 } },
  ); // [1,V]
  const eosOn = g.op('Cast', [g.op('GreaterOrEqual', [position, g.int64([eosPosition], [])])], {
    to: { int: 1 },
  });
  const eosBias = g.op('Mul', [
    g.op('OneHot', [g.int64([CODEC.eos]), g.int64([VOCAB], []), g.float([0, 40])], { axis: { int: -1 } }),
    eosOn,
  ]);
  const learned = g.op('Mul', [g.op('Tanh', [project(last, hidden, VOCAB)]), g.float([0.1], [])]);
  g.output(g.op('Add', [g.op('Add', [learned, scripted]), eosBias]), 'logits', 'float32', [1, VOCAB]);
  v.floatOutput(last, 'hidden', [1, hidden]);
  v.floatOutput(g.op('Concat', newKeys, { axis: { int: 0 } }), 'new_keys', [
    layers,
    kvHeads,
    'sequence',
    headDim,
  ]);
  v.floatOutput(g.op('Concat', newValues, { axis: { int: 0 } }), 'new_values', [
    layers,
    kvHeads,
    'sequence',
    headDim,
  ]);
  return v;
}

function rmsNorm(g: GraphBuilder, x: string): string {
  const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], {
    axes: { ints: [-1] },
    keepdims: { int: 1 },
  });
  return g.op('Div', [x, g.op('Sqrt', [g.op('Add', [meanSquare, g.float([1e-6], [])])])]);
}

/**
 * The fused 15-step residual loop: per step, logits/temperature, the top_k of them (top_k ≤ 0 keeps
 * all), the top_p nucleus of those, Gumbel noise, argmax — the contract's sampling, as the exporter's.
 */
function codePredictorGraph(
  dtype: ElementType,
  dims: Dimensions,
  tables: { codec: Float32Array; residual: Float32Array },
  weights: Weights,
): VariantGraph {
  const v = new VariantGraph('code_predictor', dtype);
  const g = v.graph;
  const { hidden } = dims;
  const hiddenState = v.floatInput('hidden', [1, hidden]);
  const firstCode = g.input('first_code', 'int64', [1]);
  const temperature = g.input('temperature', 'float32', []);
  const topKInput = g.input('top_k', 'int64', []);
  const topP = g.input('top_p', 'float32', []);
  const noise = g.input('noise', 'float32', [GROUPS - 1, CODEBOOK]);
  const everything = g.int64([CODEBOOK], []);
  const topK = g.op('Reshape', [
    g.op('Where', [
      g.op('Greater', [topKInput, g.int64([0], [])]),
      g.op('Min', [topKInput, everything]),
      everything,
    ]),
    g.int64([1]),
  ]);
  const keepAllOfNucleus = g.op('GreaterOrEqual', [topP, g.float([1], [])]);
  const codecTable = v.weight(tables.codec, [VOCAB, hidden]);
  let state = g.op('Add', [hiddenState, g.op('Gather', [codecTable, firstCode])]); // [1,H]
  const codes: string[] = [];
  for (let step = 0; step < GROUPS - 1; step += 1) {
    const head = v.weight(weights.normal(hidden * CODEBOOK, 2 / Math.sqrt(hidden)), [hidden, CODEBOOK]);
    const scaled = g.op('Div', [g.op('MatMul', [rmsNorm(g, state), head]), temperature]); // [1,C]
    const [sorted] = g.opMany('TopK', [scaled, g.int64([CODEBOOK])], { axis: { int: -1 } }, 2); // descending
    const kth = g.op('Gather', [sorted, g.op('Sub', [topK, g.int64([1])])], { axis: { int: 1 } }); // [1,1]
    const inTopK = g.op('GreaterOrEqual', [sorted, kth]);
    const probabilities = g.op('Softmax', [g.op('Where', [inTopK, sorted, g.float([-1e9], [])])], {
      axis: { int: -1 },
    });
    const before = g.op('Sub', [g.op('CumSum', [probabilities, g.int64([1], [])]), probabilities]);
    const inNucleus = g.op('Or', [g.op('Less', [before, topP]), keepAllOfNucleus]);
    const kept = g.op('ReduceSum', [g.op('Cast', [g.op('And', [inNucleus, inTopK])], { to: { int: 7 } })], {
      keepdims: { int: 0 },
    });
    const last = g.op('Reshape', [
      g.op('Max', [g.op('Sub', [kept, g.int64([1], [])]), g.int64([0], [])]),
      g.int64([1]),
    ]);
    const threshold = g.op('Gather', [sorted, last], { axis: { int: 1 } }); // [1,1]
    const masked = g.op('Where', [g.op('GreaterOrEqual', [scaled, threshold]), scaled, g.float([-1e9], [])]);
    const uniform = g.op('Gather', [noise, g.int64([step])], { axis: { int: 0 } }); // [1,C]
    const gumbel = g.op('Neg', [g.op('Log', [g.op('Neg', [g.op('Log', [uniform])])])]);
    const code = g.op('ArgMax', [g.op('Add', [masked, gumbel])], { axis: { int: -1 }, keepdims: { int: 0 } }); // [1]
    codes.push(code);
    const residualTable = v.weight(
      tables.residual.subarray(step * CODEBOOK * hidden, (step + 1) * CODEBOOK * hidden),
      [CODEBOOK, hidden],
    );
    state = g.op('Add', [state, g.op('Gather', [residualTable, code])]);
  }
  g.output(g.op('Concat', codes, { axis: { int: 0 } }), 'codes', 'int64', [GROUPS - 1]);
  return v;
}

function speakerEncoderGraph(dtype: ElementType, hidden: number, weights: Weights): VariantGraph {
  const v = new VariantGraph('speaker_encoder', dtype);
  const g = v.graph;
  const mel = g.input('mel', 'float32', [1, 'frames', 128]);
  const pooled = g.op('ReduceMean', [mel], { axes: { ints: [1] }, keepdims: { int: 0 } }); // [1,128]
  const projection = v.weight(weights.normal(128 * hidden, 1 / Math.sqrt(128)), [128, hidden]);
  v.floatOutput(g.op('Tanh', [g.op('MatMul', [pooled, projection])]), 'embedding', [1, hidden]);
  return v;
}

function codecEncoderGraph(dtype: ElementType, weights: Weights): VariantGraph {
  const v = new VariantGraph('codec_encoder', dtype);
  const g = v.graph;
  const audio = g.input('audio', 'float32', [1, 'samples']);
  const samples = g.op('Gather', [g.op('Shape', [audio]), g.int64([1], [])]);
  const frames = g.op('Div', [g.op('Add', [samples, g.int64([FRAME - 1], [])]), g.int64([FRAME], [])]);
  const padding = g.op('Sub', [g.op('Mul', [frames, g.int64([FRAME], [])]), samples]);
  const pads = g.op('Concat', [g.int64([0, 0, 0]), g.op('Unsqueeze', [padding, g.int64([0])])], {
    axis: { int: 0 },
  });
  const padded = g.op('Pad', [audio, pads]);
  const framed = g.op('Reshape', [padded, g.int64([-1, FRAME])]);
  const projection = v.weight(weights.normal(FRAME * GROUPS, 1 / Math.sqrt(FRAME)), [FRAME, GROUPS]);
  const scores = g.op('Mul', [g.op('Abs', [g.op('MatMul', [framed, projection])]), g.float([4096], [])]);
  const codes = g.op('Mod', [g.op('Cast', [scores], { to: { int: 7 } }), g.int64([CODEBOOK], [])]);
  g.output(g.op('Unsqueeze', [codes, g.int64([0])]), 'codes', 'int64', [1, 'frames', GROUPS]);
  return v;
}

function codecDecoderGraph(dtype: ElementType, weights: Weights): VariantGraph {
  const v = new VariantGraph('codec_decoder', dtype);
  const g = v.graph;
  const width = 8;
  const codes = g.input('codes', 'int64', [1, 'frames', GROUPS]);
  const contextFrames = g.input('context_frames', 'int64', []);
  const offsets = g.int64(
    Array.from({ length: GROUPS }, (_value, group) => group * CODEBOOK),
    [GROUPS],
  );
  const table = v.weight(weights.normal(GROUPS * CODEBOOK * width, 1), [GROUPS * CODEBOOK, width]);
  const embedded = g.op('ReduceSum', [g.op('Gather', [table, g.op('Add', [codes, offsets])]), g.int64([2])], {
    keepdims: { int: 0 },
  }); // [1,T,W]
  const synthesis = v.weight(weights.normal(width * FRAME, 0.5 / Math.sqrt(width)), [width, FRAME]);
  const waveform = g.op('Mul', [g.op('Tanh', [g.op('MatMul', [embedded, synthesis])]), g.float([0.3], [])]); // [1,T,1920]
  const flat = g.op('Reshape', [waveform, g.int64([1, -1])]);
  const start = g.op('Unsqueeze', [g.op('Mul', [contextFrames, g.int64([FRAME], [])]), g.int64([0])]);
  const kept = g.op('Slice', [flat, start, g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]);
  v.floatOutput(kept, 'audio', [1, 'samples']);
  return v;
}

function tableBytes(values: Float32Array, dtype: 'float32' | 'float16'): Uint8Array {
  const stored = dtype === 'float16' ? float32ToFloat16Bits(values) : values;
  return new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
}

export async function writeSyntheticQwen3Model(
  outDir: string,
  options: SyntheticQwen3Options,
): Promise<Qwen3Manifest> {
  const dims = dimensionsFor(options);
  const eosPosition = options.eosPosition ?? (options.size === 'tiny' ? 120 : 1_000_000);
  const weights = new Weights(options.key === 'base_1.7b' ? 17 : 6);
  const variantDirectory = path.join(outDir, options.dtype);
  await mkdir(variantDirectory, { recursive: true });
  await writeSyntheticTokenizer(path.join(outDir, 'tokenizer'));
  const tables = {
    codec: weights.normal(VOCAB * dims.hidden, 0.5),
    residual: weights.normal((GROUPS - 1) * CODEBOOK * dims.hidden, 0.5 / Math.sqrt(GROUPS)),
  };
  const graphs = [
    textEmbedGraph(options.dtype, dims, weights),
    talkerGraph(options.dtype, dims, weights, eosPosition),
    codePredictorGraph(options.dtype, dims, tables, weights),
    speakerEncoderGraph(options.dtype, dims.hidden, weights),
    codecEncoderGraph(options.dtype, weights),
    codecDecoderGraph(options.dtype, weights),
  ];
  for (const variant of graphs) {
    const file = `${variant.graph.name}.onnx`;
    const external = options.externalData ?? options.size === 'real';
    const { model, data } = variant.graph.encodeWithData(17, external ? `${file}.data` : undefined);
    await writeFile(path.join(variantDirectory, file), model);
    if (data.length > 0) await writeFile(path.join(variantDirectory, `${file}.data`), Buffer.concat(data));
  }
  await writeFile(
    path.join(variantDirectory, 'codec_embedding.bin'),
    tableBytes(tables.codec, options.dtype),
  );
  await writeFile(
    path.join(variantDirectory, 'residual_embeddings.bin'),
    tableBytes(tables.residual, options.dtype),
  );
  const manifest: Qwen3Manifest = {
    format: 'qwen3-tts-onnx',
    contractVersion: QWEN3_CONTRACT_VERSION,
    modelKey: options.key,
    source: {
      repository: `synthetic/${options.key}`,
      synthetic: true,
      size: options.size,
      eosPosition,
    } as Qwen3Manifest['source'],
    dimensions: {
      hidden: dims.hidden,
      layers: dims.layers,
      kvHeads: dims.kvHeads,
      headDim: dims.headDim,
      vocabSize: VOCAB,
      codeGroups: GROUPS,
      codebookSize: CODEBOOK,
      speakerEmbedding: dims.hidden,
      maxPositions: 32768,
    },
    tokenizer: { splitPattern: 'qwen2' },
    textTokens: { imStart: 151644, imEnd: 151645, ttsPad: 151671, ttsBos: 151672, ttsEos: 151673 },
    codecTokens: CODEC,
    languages: LANGUAGES,
    audio: {
      sampleRate: 24000,
      samplesPerFrame: FRAME,
      decoderMaxFrames: 325,
      decoderLeftContext: 25,
      decoderAttentionWindow: 72,
    },
    speakerMel: { sampleRate: 24000, nFft: 1024, hop: 256, window: 1024, mels: 128, fMin: 0, fMax: 12000 },
    generation: {
      doSample: true,
      topK: 50,
      topP: 1,
      temperature: 0.9,
      repetitionPenalty: 1.05,
      maxNewTokens: 8192,
      subtalker: { doSample: true, topK: 50, topP: 1, temperature: 0.9 },
    },
    variants: { [options.dtype]: { directory: options.dtype, dtype: options.dtype } },
    files: { sha256: await hashModelFiles(outDir) },
  };
  await writeFile(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}
