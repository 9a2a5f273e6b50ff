import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SeededRandom } from '../engines/qwen3-onnx/random.ts';
import { writeSyntheticTokenizer } from '../engines/qwen3-onnx/tokenizer.ts';
import { float32ToFloat16Bits } from '../onnx/float16.ts';
import { GraphBuilder, type ElementType } from '../onnx/graph-builder.ts';
import {
  applyMatMulNBits,
  matMulNBitsInitializers,
  quantizeMatMulWeight,
  type MatMulNBitsInitializers,
} from '../onnx/matmul-nbits.ts';
import { hashModelFiles } from './file-hashes.ts';
import {
  blockedAttention,
  blockedPastMask,
  newPositionsMask,
  type BlockedPast,
} from './synth-qwen3-cache.ts';
import { QWEN3_CONTRACT_VERSION, talkerPastName, type Qwen3Manifest } from './qwen3-manifest.ts';

/**
 * Synthetic Qwen3-TTS models in our exact ONNX layout (docs/qwen3-onnx-layout.md): the same files,
 * tensor names, ranks and dtypes as an export of the real checkpoints, with random weights. The
 * per-frame graphs compute what the real ones compute, with the official configs' sizes at `real`:
 * the talker's 28 Qwen3 layers over the host-owned cache, the code predictor's 5-layer transformer run
 * step by step 15 times with its own cache and 15 lm heads, and the 12 Hz codec decoder (split-RVQ
 * dequantisation, sliding-window transformer, upsamplers, SnakeBeta vocoder). Only the talker's logits
 * are scripted, so tests can predict the loop: greedy c0 at absolute position p is (37p + 11) mod 2048,
 * and EOS wins once the position reaches `eosPosition`. The speaker and codec encoders, run once per
 * voice, stay stand-ins.
 */
export interface SyntheticQwen3Options {
  key: 'base_0.6b' | 'base_1.7b';
  /** int8 / int4: float32 with the talker's and code predictor's matmuls quantized (MatMulNBits). */
  dtype: 'float32' | 'float16' | 'int8' | 'int4';
  /** tiny: every structure at small widths, for tests; real: the official sizes (random weights, for benchmarks). */
  size: 'tiny' | 'real';
  /** The absolute position from which the talker says end-of-speech. */
  eosPosition?: number;
  /** Keep large weights in `<graph>.onnx.data` beside each graph (always for real sizes, as real exports must). */
  externalData?: boolean;
  /** false: no codec_decoder_step (a model as older exports are, e.g. to compare the two ways of streaming). */
  decoderStep?: boolean;
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

/** One Qwen3-style transformer stack: grouped-query attention with rotary positions and a gated MLP. */
interface TransformerDimensions {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  ropeTheta: number;
  rmsEpsilon: number;
  /** Per-head RMSNorm of queries and keys (talker and code predictor; not the codec decoder). */
  queryKeyNorm: boolean;
  /** The codec decoder scales each residual branch (LayerScale); undefined: no scaling. */
  layerScale?: number;
}

/** The 12 Hz tokenizer's decoder (speech_tokenizer/config.json `decoder_config`). */
interface DecoderDimensions {
  codebookDim: number;
  latent: number;
  transformer: TransformerDimensions;
  slidingWindow: number;
  decoderDim: number;
  upsampleRates: number[];
  upsamplingRatios: number[];
}

interface Dimensions {
  talker: TransformerDimensions;
  textHidden: number;
  predictor: TransformerDimensions;
  decoder: DecoderDimensions;
}

/**
 * Real sizes are the official configs' (config.json `talker_config` and its `code_predictor_config`,
 * speech_tokenizer/config.json `decoder_config`). Tiny keeps every structure with small widths, so tests
 * run the same graphs in milliseconds; its upsampling rates stay real, so a frame is still 1920 samples.
 */
function dimensionsFor(options: SyntheticQwen3Options): Dimensions {
  const bigTalker = options.key === 'base_1.7b';
  if (options.size === 'tiny') {
    const small = { ropeTheta: 1_000_000, rmsEpsilon: 1e-6, queryKeyNorm: true };
    return {
      talker: { ...small, layers: 2, hidden: 16, heads: 4, kvHeads: 2, headDim: 8, intermediate: 32 },
      textHidden: 8,
      // As in 1.7B, a predictor narrower than the talker exercises the input projection.
      predictor: {
        ...small,
        // One layer: it runs 15 times a frame, and tests generate hundreds of frames.
        layers: 1,
        hidden: bigTalker ? 8 : 16,
        heads: 4,
        kvHeads: 2,
        headDim: 4,
        intermediate: 24,
      },
      decoder: {
        codebookDim: 8,
        latent: 16,
        transformer: {
          layers: 2,
          hidden: 8,
          heads: 2,
          kvHeads: 2,
          headDim: 4,
          intermediate: 16,
          ropeTheta: 10_000,
          rmsEpsilon: 1e-5,
          queryKeyNorm: false,
          layerScale: 0.01,
        },
        slidingWindow: 72,
        decoderDim: 32,
        upsampleRates: [8, 5, 4, 3],
        upsamplingRatios: [2, 2],
      },
    };
  }
  const attention = { heads: 16, kvHeads: 8, headDim: 128, ropeTheta: 1_000_000, rmsEpsilon: 1e-6 };
  return {
    talker: {
      ...attention,
      layers: 28,
      hidden: bigTalker ? 2048 : 1024,
      intermediate: bigTalker ? 6144 : 3072,
      queryKeyNorm: true,
    },
    // The real text table is 151936 × 2048 and is read once per request; a narrow one keeps the
    // benchmark model's size sane without changing the per-frame work.
    textHidden: 64,
    predictor: { ...attention, layers: 5, hidden: 1024, intermediate: 3072, queryKeyNorm: true },
    decoder: {
      codebookDim: 512,
      latent: 1024,
      transformer: {
        layers: 8,
        hidden: 512,
        heads: 16,
        kvHeads: 16,
        headDim: 64,
        intermediate: 1024,
        ropeTheta: 10_000,
        rmsEpsilon: 1e-5,
        queryKeyNorm: false,
        layerScale: 0.01,
      },
      slidingWindow: 72,
      decoderDim: 1536,
      upsampleRates: [8, 5, 4, 3],
      upsamplingRatios: [2, 2],
    },
  };
}

class Weights {
  private readonly random: SeededRandom;
  constructor(seed: number | SeededRandom) {
    this.random = typeof seed === 'number' ? new SeededRandom(seed) : seed;
  }
  /** A copy that draws the same values as this one from here on (a second graph with the same weights). */
  fork(): Weights {
    return new Weights(this.random.clone());
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
  /** Values around `center` (norm gains, SnakeBeta parameters): mild variety without changing scale. */
  around(count: number, center: number, spread: number): Float32Array {
    const values = this.normal(count, spread);
    for (let index = 0; index < count; index += 1) values[index] += center;
    return values;
  }
}

interface LinearWeights {
  rows: number;
  columns: number;
  /** Drawn when the weights are made; put in the graph at first use (as float or quantized). */
  values: Float32Array;
  /** An output head: left float32 in quantized variants, as the exporter leaves the real heads. */
  head: boolean;
  matrix?: string;
  quantized?: MatMulNBitsInitializers;
  bias?: string;
}

/** int8 / int4 variants: weight-only quantized matmuls (MatMulNBits), as quantize.py writes them. */
interface Quantization {
  bits: 4 | 8;
  blockSize: number;
}

const QUANTIZATIONS: Partial<Record<SyntheticQwen3Options['dtype'], Quantization>> = {
  int8: { bits: 8, blockSize: 32 },
  int4: { bits: 4, blockSize: 32 },
};

/**
 * Graph I/O and weights in the variant's dtype; float16 variants store float16 and compute in float32
 * (casts at the edges). Every weight matmul goes through `linear` (weights from `linearWeights`), so
 * that a quantised variant can swap the implementation in one place.
 */
class VariantGraph {
  readonly graph: GraphBuilder;
  constructor(
    name: string,
    readonly dtype: ElementType,
    readonly weights: Weights,
    private readonly quantization?: Quantization,
  ) {
    this.graph = new GraphBuilder(name);
  }
  weight(values: Float32Array, dims: number[]): string {
    const stored = this.graph.tensor(values, dims, this.dtype);
    return this.dtype === 'float16' ? this.graph.op('Cast', [stored], { to: { int: 1 } }) : stored;
  }
  /** A random weight, Normal(0, scale²). */
  random(dims: number[], scale: number): string {
    return this.weight(
      this.weights.normal(
        dims.reduce((product, dim) => product * dim, 1),
        scale,
      ),
      dims,
    );
  }
  /** The weights of one linear map, made once and applied wherever the model reuses the map. */
  linearWeights(
    rows: number,
    columns: number,
    {
      scale = 1 / Math.sqrt(rows),
      bias = false,
      head = false,
    }: { scale?: number; bias?: boolean; head?: boolean } = {},
  ): LinearWeights {
    return {
      rows,
      columns,
      values: this.weights.normal(rows * columns, scale),
      head,
      bias: bias ? this.random([columns], 0.02) : undefined,
    };
  }
  /**
   * input[…, rows] × W[rows, columns] (+ bias): the one weight matmul of every synthetic graph, a
   * MatMulNBits in quantized variants (but for heads). The weight enters the graph once, however
   * often the model applies it. The default scale keeps the input's variance.
   */
  linear(input: string, weights: LinearWeights): string {
    let product: string;
    if (this.quantization && !weights.head) {
      const { bits, blockSize } = this.quantization;
      weights.quantized ??= matMulNBitsInitializers(
        this.graph,
        quantizeMatMulWeight(weights.values, weights.rows, weights.columns, bits, blockSize),
      );
      product = applyMatMulNBits(this.graph, input, weights.quantized);
    } else {
      weights.matrix ??= this.weight(weights.values, [weights.rows, weights.columns]);
      product = this.graph.op('MatMul', [input, weights.matrix]);
    }
    return weights.bias ? this.graph.op('Add', [product, weights.bias]) : product;
  }
  /** A linear map used once: new weights, applied. */
  project(
    input: string,
    rows: number,
    columns: number,
    options: { scale?: number; bias?: boolean; head?: boolean } = {},
  ): string {
    return this.linear(input, this.linearWeights(rows, columns, options));
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

/** RMSNorm over the last axis with a learned gain, as the official Qwen3 layers. */
function rmsNorm(
  v: VariantGraph,
  x: string,
  width: number,
  epsilon = 1e-6,
  gain = normGain(v, width),
): string {
  const g = v.graph;
  // Pow(x, 2), as exports of the official RMSNorm write it: ONNX Runtime fuses that pattern.
  const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, g.float([2], [])])], {
    axes: { ints: [-1] },
    keepdims: { int: 1 },
  });
  const normalized = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [meanSquare, g.float([epsilon], [])])])]);
  return g.op('Mul', [normalized, gain]);
}

function normGain(v: VariantGraph, width: number): string {
  return v.weight(v.weights.around(width, 1, 0.05), [width]);
}

/** x · sigmoid(x). */
function silu(g: GraphBuilder, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x])]);
}

interface Rotary {
  cos: string;
  sin: string;
}

/** Rotary tables [S, D] for int64 positions [S] (rotate-half layout, as the official rotary embeddings). */
function rotaryTables(g: GraphBuilder, positions: string, headDim: number, theta: number): Rotary {
  const inverseFrequencies = Array.from(
    { length: headDim / 2 },
    (_value, index) => 1 / theta ** ((2 * index) / headDim),
  );
  const angles = g.op('Mul', [
    g.op('Unsqueeze', [g.op('Cast', [positions], { to: { int: 1 } }), g.int64([1])]),
    g.float(inverseFrequencies),
  ]); // [S, D/2]
  const doubled = g.op('Concat', [angles, angles], { axis: { int: -1 } });
  return { cos: g.op('Cos', [doubled]), sin: g.op('Sin', [doubled]) };
}

/** x·cos + rotate_half(x)·sin over the last axis (head dim D). */
function rotate(g: GraphBuilder, x: string, rotary: Rotary, headDim: number): string {
  const half = headDim / 2;
  const first = g.op('Slice', [x, g.int64([0]), g.int64([half]), g.int64([-1])]);
  const second = g.op('Slice', [x, g.int64([half]), g.int64([headDim]), g.int64([-1])]);
  const rotated = g.op('Concat', [g.op('Neg', [second]), first], { axis: { int: -1 } });
  return g.op('Add', [g.op('Mul', [x, rotary.cos]), g.op('Mul', [rotated, rotary.sin])]);
}

interface LayerInput {
  /** [S, hidden] */
  x: string;
  rotary: Rotary;
  /** Additive [S, total] mask; undefined: every query sees every key. */
  mask?: string;
  /** This layer's earlier keys and values, [K, P, D] each (the code predictor's in-graph cache). */
  past?: { keys: string; values: string };
  /** The talker: the host's blocked cache for this layer, and the causal mask among the new positions. */
  blocked?: { past: BlockedPast; newMask: string };
}

interface LayerOutput {
  x: string;
  /** The new positions' keys and values (after norm and rotation), [K, S, D]. */
  key: string;
  value: string;
  /** Past and new, [K, P+S, D]: the cache for the next step. */
  keys: string;
  values: string;
}

/** One layer's weights; the code predictor applies the same layers at each of its 15 steps. */
interface LayerWeights {
  inputNorm: string;
  postAttentionNorm: string;
  queryNorm?: string;
  keyNorm?: string;
  query: LinearWeights;
  key: LinearWeights;
  value: LinearWeights;
  output: LinearWeights;
  gate: LinearWeights;
  up: LinearWeights;
  down: LinearWeights;
  /** LayerScale gains of the attention and MLP branches (codec decoder). */
  branchScale?: string;
}

function layerWeights(v: VariantGraph, dims: TransformerDimensions): LayerWeights {
  const { hidden, heads, kvHeads, headDim, intermediate } = dims;
  return {
    inputNorm: normGain(v, hidden),
    postAttentionNorm: normGain(v, hidden),
    queryNorm: dims.queryKeyNorm ? normGain(v, headDim) : undefined,
    keyNorm: dims.queryKeyNorm ? normGain(v, headDim) : undefined,
    query: v.linearWeights(hidden, heads * headDim),
    key: v.linearWeights(hidden, kvHeads * headDim),
    value: v.linearWeights(hidden, kvHeads * headDim),
    output: v.linearWeights(heads * headDim, hidden),
    gate: v.linearWeights(hidden, intermediate),
    up: v.linearWeights(hidden, intermediate),
    down: v.linearWeights(intermediate, hidden),
    branchScale:
      dims.layerScale === undefined
        ? undefined
        : v.weight(new Float32Array(hidden).fill(dims.layerScale), [hidden]),
  };
}

/**
 * One decoder layer as the official ones: RMSNorm, q/k/v projections (q/k per-head RMSNorm where the
 * model has it), rotary, grouped-query attention (query head h uses key/value head h / groups),
 * o_proj, residual; RMSNorm, gated SiLU MLP, residual. LayerScale where the model has it.
 */
function transformerLayer(
  v: VariantGraph,
  dims: TransformerDimensions,
  weights: LayerWeights,
  input: LayerInput,
): LayerOutput {
  const g = v.graph;
  const { hidden, heads, kvHeads, headDim, rmsEpsilon } = dims;
  const groups = heads / kvHeads;
  const scaleBranch = (branch: string) =>
    weights.branchScale ? g.op('Mul', [branch, weights.branchScale]) : branch;
  const headNorm = (value: string, gain: string | undefined) =>
    gain ? rmsNorm(v, value, headDim, rmsEpsilon, gain) : value;
  const normed = rmsNorm(v, input.x, hidden, rmsEpsilon, weights.inputNorm);
  const query = rotate(
    g,
    g.op(
      'Transpose',
      [
        headNorm(
          g.op('Reshape', [v.linear(normed, weights.query), g.int64([-1, kvHeads, groups, headDim])]),
          weights.queryNorm,
        ),
      ],
      { perm: { ints: [1, 2, 0, 3] } },
    ),
    input.rotary,
    headDim,
  ); // [K, groups, S, D]
  const key = rotate(
    g,
    g.op(
      'Transpose',
      [
        headNorm(
          g.op('Reshape', [v.linear(normed, weights.key), g.int64([-1, kvHeads, headDim])]),
          weights.keyNorm,
        ),
      ],
      { perm: { ints: [1, 0, 2] } },
    ),
    input.rotary,
    headDim,
  ); // [K, S, D]
  const value = g.op(
    'Transpose',
    [g.op('Reshape', [v.linear(normed, weights.value), g.int64([-1, kvHeads, headDim])])],
    { perm: { ints: [1, 0, 2] } },
  );
  const keys = input.past ? g.op('Concat', [input.past.keys, key], { axis: { int: 1 } }) : key;
  const values = input.past ? g.op('Concat', [input.past.values, value], { axis: { int: 1 } }) : value;
  let attended: string; // [K, groups, S, D]
  if (input.blocked) {
    const attention = { kvHeads, groups, headDim };
    attended = blockedAttention(g, attention, input.blocked.past, query, key, value, input.blocked.newMask);
  } else {
    const keysByGroup = g.op('Unsqueeze', [
      g.op('Transpose', [keys], { perm: { ints: [0, 2, 1] } }),
      g.int64([1]),
    ]);
    let scores = g.op('Mul', [g.op('MatMul', [query, keysByGroup]), g.float([1 / Math.sqrt(headDim)], [])]);
    if (input.mask) scores = g.op('Add', [scores, input.mask]);
    attended = g.op('MatMul', [
      g.op('Softmax', [scores], { axis: { int: -1 } }),
      g.op('Unsqueeze', [values, g.int64([1])]),
    ]);
  }
  const merged = g.op('Reshape', [
    g.op('Transpose', [attended], { perm: { ints: [2, 0, 1, 3] } }),
    g.int64([-1, heads * headDim]),
  ]);
  let x = g.op('Add', [input.x, scaleBranch(v.linear(merged, weights.output))]);
  const mlpInput = rmsNorm(v, x, hidden, rmsEpsilon, weights.postAttentionNorm);
  const gated = g.op('Mul', [silu(g, v.linear(mlpInput, weights.gate)), v.linear(mlpInput, weights.up)]);
  x = g.op('Add', [x, scaleBranch(v.linear(gated, weights.down))]);
  return { x, key, value, keys, values };
}

function textEmbedGraph(dtype: ElementType, dims: Dimensions, weights: Weights): VariantGraph {
  const v = new VariantGraph('text_embed', dtype, weights);
  const g = v.graph;
  const { textHidden } = dims;
  const ids = g.input('input_ids', 'int64', [1, 'sequence']);
  const table = v.weight(weights.normal(TEXT_VOCAB * textHidden, 1), [TEXT_VOCAB, textHidden]);
  // text_projection: a two-layer SiLU MLP (text hidden → text hidden → talker hidden), with biases.
  const embedded = g.op('Gather', [table, ids]);
  const projected = v.project(
    silu(g, v.project(embedded, textHidden, textHidden, { bias: true })),
    textHidden,
    dims.talker.hidden,
    {
      bias: true,
    },
  );
  v.floatOutput(g.op('Tanh', [projected]), 'embeds', [1, 'sequence', dims.talker.hidden]);
  return v;
}

function talkerGraph(
  dtype: ElementType,
  dims: TransformerDimensions,
  weights: Weights,
  eosPosition: number,
  quantization?: Quantization,
): VariantGraph {
  const v = new VariantGraph('talker', dtype, weights, quantization);
  const g = v.graph;
  const { hidden, layers, kvHeads, headDim } = dims;
  let x = g.op('Squeeze', [v.floatInput('inputs_embeds', [1, 'sequence', hidden]), g.int64([0])]); // [S,H]
  // The host's blocked cache, one input pair per layer (synth-qwen3-cache.ts): only used blocks come in.
  const past = Array.from({ length: layers }, (_value, layer) => ({
    keys: v.floatInput(talkerPastName('keys', layer), ['blocks', kvHeads, headDim, 'block']),
    values: v.floatInput(talkerPastName('values', layer), ['blocks', kvHeads, 'block', headDim]),
  }));
  const pastLength = g.input('past_length', 'int64', []);
  const sequence = g.op('Gather', [g.op('Shape', [x]), g.int64([0], [])]); // S
  const total = g.op('Add', [pastLength, sequence]);
  const one = g.int64([1], []);
  const queryPositions = g.op('Range', [pastLength, total, one]);
  const pastMask = blockedPastMask(g, past[0].values, pastLength);
  const newMask = newPositionsMask(g, sequence, dims.heads / kvHeads);
  // With one speaker and text only, M-RoPE's three position streams are equal: plain rotary.
  const rotary = rotaryTables(g, queryPositions, headDim, dims.ropeTheta);
  const newKeys: string[] = [];
  const newValues: string[] = [];
  for (let layer = 0; layer < layers; layer += 1) {
    const output = transformerLayer(v, dims, layerWeights(v, dims), {
      x,
      rotary,
      blocked: { past: { ...past[layer], mask: pastMask }, newMask },
    });
    x = output.x;
    newKeys.push(g.op('Unsqueeze', [output.key, g.int64([0])]));
    newValues.push(g.op('Unsqueeze', [output.value, g.int64([0])]));
  }
  const lastIndex = g.op('Sub', [sequence, one]);
  const last = rmsNorm(
    v,
    g.op('Gather', [x, g.op('Unsqueeze', [lastIndex, g.int64([0])])], { axis: { int: 0 } }),
    hidden,
    dims.rmsEpsilon,
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
  // The codec head (hidden → V) is computed as the real one is, then squashed so the script wins.
  const learned = g.op('Mul', [g.op('Tanh', [v.project(last, hidden, VOCAB)]), g.float([0.1], [])]);
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

/**
 * The contract's sampling of one residual code from logits [1, C]: logits/temperature, the top_k of them
 * (top_k ≤ 0 keeps all), the top_p nucleus of those, Gumbel noise, argmax — as the exporter's.
 */
function sampleCode(
  g: GraphBuilder,
  logits: string,
  settings: { temperature: string; topK: string; topP: string; keepAllOfNucleus: string },
  uniform: string,
): string {
  const scaled = g.op('Div', [logits, settings.temperature]); // [1,C]
  const [sorted] = g.opMany('TopK', [scaled, g.int64([CODEBOOK])], { axis: { int: -1 } }, 2); // descending
  const kth = g.op('Gather', [sorted, g.op('Sub', [settings.topK, g.int64([1])])], { axis: { int: 1 } }); // [1,1]
  const inTopK = g.op('GreaterOrEqual', [sorted, kth]);
  const probabilities = g.op('Softmax', [g.op('Where', [inTopK, sorted, g.float([-1e9], [])])], {
    axis: { int: -1 },
  });
  const before = g.op('Sub', [g.op('CumSum', [probabilities, g.int64([1], [])]), probabilities]);
  const inNucleus = g.op('Or', [g.op('Less', [before, settings.topP]), settings.keepAllOfNucleus]);
  const kept = g.op('ReduceSum', [g.op('Cast', [g.op('And', [inNucleus, inTopK])], { to: { int: 7 } })], {
    keepdims: { int: 0 },
  });
  const last = g.op('Reshape', [
    g.op('Max', [g.op('Sub', [kept, g.int64([1], [])]), g.int64([0], [])]),
    g.int64([1]),
  ]);
  const threshold = g.op('Gather', [sorted, last], { axis: { int: 1 } }); // [1,1]
  const masked = g.op('Where', [g.op('GreaterOrEqual', [scaled, threshold]), scaled, g.float([-1e9], [])]);
  const gumbel = g.op('Neg', [g.op('Log', [g.op('Neg', [g.op('Log', [uniform])])])]);
  return g.op('ArgMax', [g.op('Add', [masked, gumbel])], { axis: { int: -1 }, keepdims: { int: 0 } }); // [1]
}

/**
 * The fused 15-step code predictor, as the official one runs it: context [talker hidden, C(first_code)]
 * (through the talker-to-predictor projection when the widths differ), then per step the predictor's
 * transformer over the new position(s) with its own growing key/value cache, the step's lm head on the
 * final-normed last position, sampling, and R_step(code) as the next step's input.
 */
function codePredictorGraph(
  dtype: ElementType,
  dims: Dimensions,
  tables: { codec: Float32Array; residual: Float32Array },
  weights: Weights,
  quantization?: Quantization,
): VariantGraph {
  const v = new VariantGraph('code_predictor', dtype, weights, quantization);
  const g = v.graph;
  const talkerHidden = dims.talker.hidden;
  const predictor = dims.predictor;
  const hiddenState = v.floatInput('hidden', [1, talkerHidden]);
  const firstCode = g.input('first_code', 'int64', [1]);
  const temperature = g.input('temperature', 'float32', []);
  const topKInput = g.input('top_k', 'int64', []);
  const topP = g.input('top_p', 'float32', []);
  const noise = g.input('noise', 'float32', [GROUPS - 1, CODEBOOK]);
  const everything = g.int64([CODEBOOK], []);
  const settings = {
    temperature,
    topP,
    topK: g.op('Reshape', [
      g.op('Where', [
        g.op('Greater', [topKInput, g.int64([0], [])]),
        g.op('Min', [topKInput, everything]),
        everything,
      ]),
      g.int64([1]),
    ]),
    keepAllOfNucleus: g.op('GreaterOrEqual', [topP, g.float([1], [])]),
  };
  // small_to_mtp_projection: a biased linear map where the widths differ (1.7B), the identity otherwise.
  const projection =
    talkerHidden === predictor.hidden
      ? undefined
      : v.linearWeights(talkerHidden, predictor.hidden, { bias: true });
  const toPredictor = (rows: string) => (projection ? v.linear(rows, projection) : rows);
  // The same layers (and final norm) serve all 15 steps; only the lm heads differ per step.
  const layers = Array.from({ length: predictor.layers }, () => layerWeights(v, predictor));
  const finalNorm = normGain(v, predictor.hidden);
  const codecTable = v.weight(tables.codec, [VOCAB, talkerHidden]);
  let inputs = toPredictor(
    g.op('Concat', [hiddenState, g.op('Gather', [codecTable, firstCode])], { axis: { int: 0 } }),
  ); // [2, P]
  const causalPair = g.float([0, -1e9, 0, 0], [2, 2]);
  const caches: ({ keys: string; values: string } | undefined)[] = Array.from({ length: predictor.layers });
  const codes: string[] = [];
  for (let step = 0; step < GROUPS - 1; step += 1) {
    // Step 0 runs the two context positions (0, 1); step j the previous code at position j + 1.
    const positions = step === 0 ? g.int64([0, 1]) : g.int64([step + 1]);
    const rotary = rotaryTables(g, positions, predictor.headDim, predictor.ropeTheta);
    let states = inputs;
    for (let layer = 0; layer < predictor.layers; layer += 1) {
      const output = transformerLayer(v, predictor, layers[layer], {
        x: states,
        rotary,
        mask: step === 0 ? causalPair : undefined,
        past: caches[layer],
      });
      caches[layer] = { keys: output.keys, values: output.values };
      states = output.x;
    }
    const last = step === 0 ? g.op('Gather', [states, g.int64([1])], { axis: { int: 0 } }) : states; // [1,P]
    const logits = v.project(
      rmsNorm(v, last, predictor.hidden, predictor.rmsEpsilon, finalNorm),
      predictor.hidden,
      CODEBOOK,
      { scale: 2 / Math.sqrt(predictor.hidden), head: true },
    );
    const uniform = g.op('Gather', [noise, g.int64([step])], { axis: { int: 0 } }); // [1,C]
    const code = sampleCode(g, logits, settings, uniform);
    codes.push(code);
    if (step + 1 < GROUPS - 1) {
      const residualTable = v.weight(
        tables.residual.subarray(step * CODEBOOK * talkerHidden, (step + 1) * CODEBOOK * talkerHidden),
        [CODEBOOK, talkerHidden],
      );
      inputs = toPredictor(g.op('Gather', [residualTable, code]));
    }
  }
  g.output(g.op('Concat', codes, { axis: { int: 0 } }), 'codes', 'int64', [GROUPS - 1]);
  return v;
}

function speakerEncoderGraph(dtype: ElementType, hidden: number, weights: Weights): VariantGraph {
  const v = new VariantGraph('speaker_encoder', dtype, weights);
  const g = v.graph;
  const mel = g.input('mel', 'float32', [1, 'frames', 128]);
  const pooled = g.op('ReduceMean', [mel], { axes: { ints: [1] }, keepdims: { int: 0 } }); // [1,128]
  v.floatOutput(g.op('Tanh', [v.project(pooled, 128, hidden)]), 'embedding', [1, hidden]);
  return v;
}

function codecEncoderGraph(dtype: ElementType, weights: Weights): VariantGraph {
  const v = new VariantGraph('codec_encoder', dtype, weights);
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
  const scores = g.op('Mul', [g.op('Abs', [v.project(framed, FRAME, GROUPS)]), g.float([4096], [])]);
  const codes = g.op('Mod', [g.op('Cast', [scores], { to: { int: 7 } }), g.int64([CODEBOOK], [])]);
  g.output(g.op('Unsqueeze', [codes, g.int64([0])]), 'codes', 'int64', [1, 'frames', GROUPS]);
  return v;
}

/** A state of the streamed decoder (codec_decoder_step): graph input `past.<name>`, output `present.<name>`. */
export interface DecoderStateSpec {
  name: string;
  shape: number[];
}

/** Where a streamed decoder's convolution keeps its memory: the graph's state list and its name there. */
interface Memory {
  states: DecoderStateSpec[];
  name: string;
}

/**
 * [past, x] along time (the past as a float32 graph input, zeros at a sequence's start), and its last
 * `samples` samples as the next piece's past: what a causal layer of a streamed decoder needs to see of
 * the frames before the piece.
 */
function withMemory(g: GraphBuilder, x: string, memory: Memory, channels: number, samples: number): string {
  const shape = [1, channels, samples];
  memory.states.push({ name: memory.name, shape });
  const past = g.input(`past.${memory.name}`, 'float32', shape);
  const joined = g.op('Concat', [past, x], { axis: { int: 2 } });
  const kept = g.op('Slice', [joined, g.int64([-samples]), g.int64([Number.MAX_SAFE_INTEGER]), g.int64([2])]);
  g.output(kept, `present.${memory.name}`, 'float32', shape);
  return joined;
}

/**
 * Causal Conv1d on [1, C, T]: left padding (kernel − 1)·dilation, as the codec's CausalConvNet; with
 * `memory`, the last (kernel − 1)·dilation input samples of the previous piece instead of the padding.
 */
function causalConv(
  v: VariantGraph,
  x: string,
  channels: { input: number; output: number },
  kernel: number,
  {
    dilation = 1,
    groups = 1,
    scale = 1,
    memory,
  }: { dilation?: number; groups?: number; scale?: number; memory?: Memory } = {},
): string {
  const g = v.graph;
  const fanIn = (channels.input / groups) * kernel;
  const reach = (kernel - 1) * dilation;
  const padded =
    memory && reach > 0
      ? withMemory(g, x, memory, channels.input, reach)
      : memory
        ? x
        : g.op('Pad', [x, g.int64([0, 0, reach, 0, 0, 0])]);
  return g.op(
    'Conv',
    [
      padded,
      v.random([channels.output, channels.input / groups, kernel], scale / Math.sqrt(fanIn)),
      v.random([channels.output], 0.02),
    ],
    { dilations: { ints: [dilation] }, group: { int: groups }, kernel_shape: { ints: [kernel] } },
  );
}

/**
 * ConvTranspose1d(kernel, stride) on [1, C, T] with the right (kernel − stride) samples trimmed: T·stride
 * out. With `memory`, the previous piece's last ceil(kernel / stride) − 1 inputs go first, because their
 * outputs overlap this piece's first samples; their own samples were emitted with that piece.
 */
function causalTransposedConv(
  v: VariantGraph,
  x: string,
  channels: { input: number; output: number },
  kernel: number,
  stride: number,
  memory?: Memory,
): string {
  const g = v.graph;
  const overlap = memory ? Math.ceil(kernel / stride) - 1 : 0;
  const convolved = g.op(
    'ConvTranspose',
    [
      overlap > 0 ? withMemory(g, x, memory!, channels.input, overlap) : x,
      v.random([channels.input, channels.output, kernel], 1 / Math.sqrt((channels.input * kernel) / stride)),
      v.random([channels.output], 0.02),
    ],
    { kernel_shape: { ints: [kernel] }, strides: { ints: [stride] } },
  );
  const trim = kernel - stride;
  const start = overlap * stride;
  if (trim > 0) return g.op('Slice', [convolved, g.int64([start]), g.int64([-trim]), g.int64([2])]);
  return start > 0
    ? g.op('Slice', [convolved, g.int64([start]), g.int64([Number.MAX_SAFE_INTEGER]), g.int64([2])])
    : convolved;
}

/** SnakeBeta on [1, C, T]: x + sin²(x·e^α) / (e^β + 1e-9), per channel. */
function snakeBeta(v: VariantGraph, x: string, channels: number): string {
  const g = v.graph;
  const frequency = v.weight(Float32Array.from(v.weights.around(channels, 0, 0.1), Math.exp), [
    1,
    channels,
    1,
  ]);
  const inverseMagnitude = v.weight(
    Float32Array.from(v.weights.around(channels, 0, 0.1), (beta) => 1 / (Math.exp(beta) + 1e-9)),
    [1, channels, 1],
  );
  const wave = g.op('Sin', [g.op('Mul', [x, frequency])]);
  return g.op('Add', [x, g.op('Mul', [g.op('Mul', [wave, wave]), inverseMagnitude])]);
}

/** ConvNeXt block on [1, C, T]: depthwise causal conv 7, LayerNorm, C → 4C, GELU, 4C → C, gain, residual. */
function convNeXtBlock(v: VariantGraph, x: string, channels: number, memory?: Memory): string {
  const g = v.graph;
  const depthwise = causalConv(v, x, { input: channels, output: channels }, 7, { groups: channels, memory });
  const normalized = g.op(
    'LayerNormalization',
    [
      g.op('Transpose', [depthwise], { perm: { ints: [0, 2, 1] } }),
      v.weight(v.weights.around(channels, 1, 0.05), [channels]),
      v.weight(v.weights.normal(channels, 0.02), [channels]),
    ],
    { axis: { int: -1 }, epsilon: { float: 1e-6 } },
  ); // [1, T, C]
  const expanded = v.project(normalized, channels, 4 * channels, { bias: true });
  const gelu = g.op('Mul', [
    g.op('Mul', [expanded, g.float([0.5], [])]),
    g.op('Add', [g.op('Erf', [g.op('Mul', [expanded, g.float([Math.SQRT1_2], [])])]), g.float([1], [])]),
  ]);
  const contracted = g.op('Mul', [
    v.project(gelu, 4 * channels, channels, { bias: true }),
    v.weight(new Float32Array(channels).fill(0.1), [channels]),
  ]);
  return g.op('Add', [x, g.op('Transpose', [contracted], { perm: { ints: [0, 2, 1] } })]);
}

/**
 * codec_decoder with the 12 Hz tokenizer decoder's structure: split-RVQ dequantisation (one semantic and
 * 15 acoustic codebooks, each half the codebook dim, projected and summed), causal pre-conv, the
 * sliding-window transformer (input/output projections around it), two ×2 upsamplers (ConvTranspose +
 * ConvNeXt), then the vocoder: conv to `decoderDim` channels, one block per upsample rate (SnakeBeta,
 * ConvTranspose halving the channels, residual units with dilations 1, 3, 9), SnakeBeta, conv to one
 * channel, clamp to ±1. The first `context_frames` frames' samples are cut.
 *
 * With `streamed` (a list the states are written to), the same computation as codec_decoder_step
 * (docs/qwen3-onnx-layout.md): the piece's frames start at input `position`, and every causal layer takes
 * what it needs of the frames before from its `past.<name>` input and gives `present.<name>` back
 * (see withMemory; the transformer's keys and values of the last window − 1 positions). Drawn from a
 * fork of the same weights, it decodes a sequence piece by piece exactly as codec_decoder does at once.
 */
function codecDecoderGraph(
  dtype: ElementType,
  dims: DecoderDimensions,
  weights: Weights,
  streamed?: DecoderStateSpec[],
): VariantGraph {
  const v = new VariantGraph(streamed ? 'codec_decoder_step' : 'codec_decoder', dtype, weights);
  const g = v.graph;
  const { codebookDim, latent, transformer, decoderDim } = dims;
  const memory = (name: string): Memory | undefined => (streamed ? { states: streamed, name } : undefined);
  const half = codebookDim / 2;
  const codes = g.op('Max', [g.input('codes', 'int64', [1, 'frames', GROUPS]), g.int64([0], [])]);
  const contextFrames = streamed ? undefined : g.input('context_frames', 'int64', []);
  const position = streamed ? g.input('position', 'int64', []) : g.int64([0], []);
  // Codebook entries of unit-ish size; 16 summed codebooks then stay moderate after the projections.
  const semanticTable = v.random([CODEBOOK, half], 1);
  const semantic = g.op('Gather', [
    semanticTable,
    g.op('Gather', [codes, g.int64([0], [])], { axis: { int: 2 } }),
  ]); // [1,T,half]
  const acousticTable = v.random([(GROUPS - 1) * CODEBOOK, half], 1 / Math.sqrt(GROUPS - 1));
  const acousticOffsets = g.int64(
    Array.from({ length: GROUPS - 1 }, (_value, group) => group * CODEBOOK),
    [GROUPS - 1],
  );
  const acousticCodes = g.op('Add', [
    g.op('Slice', [codes, g.int64([1]), g.int64([GROUPS]), g.int64([2])]),
    acousticOffsets,
  ]);
  const acoustic = g.op('ReduceSum', [g.op('Gather', [acousticTable, acousticCodes]), g.int64([2])], {
    keepdims: { int: 0 },
  }); // [1,T,half]
  const quantized = g.op('Add', [
    v.project(semantic, half, codebookDim),
    v.project(acoustic, half, codebookDim),
  ]); // [1,T,codebookDim]
  let x = causalConv(
    v,
    g.op('Transpose', [quantized], { perm: { ints: [0, 2, 1] } }),
    { input: codebookDim, output: latent },
    3,
    { memory: memory('pre_conv') },
  ); // [1,latent,T]

  // The transformer runs on [T, hidden] with a causal sliding-window mask (keys less than `window` back).
  let states = v.project(
    g.op('Squeeze', [g.op('Transpose', [x], { perm: { ints: [0, 2, 1] } }), g.int64([0])]),
    latent,
    transformer.hidden,
    { bias: true },
  );
  const frames = g.op('Gather', [g.op('Shape', [states]), g.int64([0], [])]);
  const end = g.op('Add', [position, frames]);
  const positions = g.op('Range', [position, end, g.int64([1], [])]);
  // Streamed: the keys of the window − 1 positions before the piece come first, from the state; slots
  // before the sequence's start (zeros) are masked.
  const remembered = dims.slidingWindow - 1;
  const keyPositions = streamed
    ? g.op('Range', [g.op('Sub', [position, g.int64([remembered], [])]), end, g.int64([1], [])])
    : positions;
  const keysAt = g.op('Unsqueeze', [keyPositions, g.int64([0])]);
  const queriesAt = g.op('Unsqueeze', [positions, g.int64([1])]);
  let allowed = g.op('And', [
    g.op('LessOrEqual', [keysAt, queriesAt]),
    g.op('Greater', [keysAt, g.op('Sub', [queriesAt, g.int64([dims.slidingWindow], [])])]),
  ]);
  if (streamed) allowed = g.op('And', [allowed, g.op('GreaterOrEqual', [keysAt, g.int64([0], [])])]);
  const mask = g.op('Where', [allowed, g.float([0], []), g.float([-1e9], [])]);
  const rotary = rotaryTables(g, positions, transformer.headDim, transformer.ropeTheta);
  const cacheShape = [transformer.layers, transformer.kvHeads, remembered, transformer.headDim];
  const pastKeys = streamed ? g.input('past.attention.keys', 'float32', cacheShape) : undefined;
  const pastValues = streamed ? g.input('past.attention.values', 'float32', cacheShape) : undefined;
  const presentKeys: string[] = [];
  const presentValues: string[] = [];
  // This layer's slice of a [layers, K, P, D] state, and the last `remembered` positions of [K, P+S, D].
  const layerOf = (state: string, layer: number) => g.op('Gather', [state, g.int64([layer], [])]);
  const lastOf = (all: string) =>
    g.op('Unsqueeze', [
      g.op('Slice', [all, g.int64([-remembered]), g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]),
      g.int64([0]),
    ]);
  for (let layer = 0; layer < transformer.layers; layer += 1) {
    const past =
      pastKeys && pastValues
        ? { keys: layerOf(pastKeys, layer), values: layerOf(pastValues, layer) }
        : undefined;
    const output = transformerLayer(v, transformer, layerWeights(v, transformer), {
      x: states,
      rotary,
      mask,
      past,
    });
    states = output.x;
    if (streamed) {
      presentKeys.push(lastOf(output.keys));
      presentValues.push(lastOf(output.values));
    }
  }
  if (streamed) {
    streamed.push(
      { name: 'attention.keys', shape: cacheShape },
      { name: 'attention.values', shape: cacheShape },
    );
    g.output(
      g.op('Concat', presentKeys, { axis: { int: 0 } }),
      'present.attention.keys',
      'float32',
      cacheShape,
    );
    g.output(
      g.op('Concat', presentValues, { axis: { int: 0 } }),
      'present.attention.values',
      'float32',
      cacheShape,
    );
  }
  states = v.project(
    rmsNorm(v, states, transformer.hidden, transformer.rmsEpsilon),
    transformer.hidden,
    latent,
    {
      bias: true,
    },
  );
  x = g.op('Unsqueeze', [g.op('Transpose', [states], { perm: { ints: [1, 0] } }), g.int64([0])]); // [1,latent,T]

  for (const [index, factor] of dims.upsamplingRatios.entries()) {
    x = causalTransposedConv(
      v,
      x,
      { input: latent, output: latent },
      factor,
      factor,
      memory(`upsample.${index}`),
    );
    x = convNeXtBlock(v, x, latent, memory(`upsample.${index}.dwconv`));
  }
  x = causalConv(v, x, { input: latent, output: decoderDim }, 7, { memory: memory('decoder.0') });
  let channels = decoderDim;
  for (const [index, rate] of dims.upsampleRates.entries()) {
    const block = `decoder.${index + 1}`;
    x = snakeBeta(v, x, channels);
    x = causalTransposedConv(
      v,
      x,
      { input: channels, output: channels / 2 },
      2 * rate,
      rate,
      memory(`${block}.upsample`),
    );
    channels /= 2;
    for (const [unit, dilation] of [1, 3, 9].entries()) {
      // Residual unit: SnakeBeta, dilated conv 7, SnakeBeta, conv 1; the branch scaled down so that
      // twelve of them leave the signal's size about where it was.
      const name = `${block}.residual.${unit + 2}`;
      const branch = causalConv(
        v,
        snakeBeta(
          v,
          causalConv(v, snakeBeta(v, x, channels), { input: channels, output: channels }, 7, {
            dilation,
            memory: memory(`${name}.conv1`),
          }),
          channels,
        ),
        { input: channels, output: channels },
        1,
        { scale: 0.5, memory: memory(`${name}.conv2`) },
      );
      x = g.op('Add', [x, branch]);
    }
  }
  // The official module list: conv, one block per rate, SnakeBeta, this conv.
  const last = `decoder.${dims.upsampleRates.length + 2}`;
  x = causalConv(v, snakeBeta(v, x, channels), { input: channels, output: 1 }, 7, {
    scale: 0.02,
    memory: memory(last),
  });
  const waveform = g.op('Clip', [x, g.float([-1], []), g.float([1], [])]); // [1,1,T·1920]
  const flat = g.op('Reshape', [waveform, g.int64([1, -1])]);
  if (!contextFrames) {
    v.floatOutput(flat, 'audio', [1, 'samples']);
    return v;
  }
  const start = g.op('Unsqueeze', [g.op('Mul', [contextFrames, g.int64([FRAME], [])]), g.int64([0])]);
  const kept = g.op('Slice', [flat, start, g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]);
  v.floatOutput(kept, 'audio', [1, 'samples']);
  return v;
}

/** Writes the pieces one after another (no concatenated copy of a multi-gigabyte weight file). */
async function writeChunks(file: string, chunks: Buffer[]): Promise<void> {
  const handle = await open(file, 'w');
  try {
    for (const chunk of chunks) await handle.write(chunk);
  } finally {
    await handle.close();
  }
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
  const hidden = dims.talker.hidden;
  const tables = {
    codec: weights.normal(VOCAB * hidden, 0.5),
    residual: weights.normal((GROUPS - 1) * CODEBOOK * hidden, 0.5 / Math.sqrt(GROUPS)),
  };
  const external = options.externalData ?? options.size === 'real';
  // Quantized variants keep float32 everywhere but the language models' matmuls, as quantize.py does.
  const stored = options.dtype === 'float16' ? 'float16' : 'float32';
  const quantization = QUANTIZATIONS[options.dtype];
  // The streamed decoder draws the one-shot decoder's weights again, from a copy of the generator
  // taken just before them, and lists its states here for the manifest.
  let decoderWeights = weights;
  const decoderStates: DecoderStateSpec[] = [];
  // One graph at a time: a real-size graph's weights are gigabytes, so none waits for the others.
  const builders = [
    () => textEmbedGraph(stored, dims, weights),
    () => talkerGraph(stored, dims.talker, weights, eosPosition, quantization),
    () => codePredictorGraph(stored, dims, tables, weights, quantization),
    () => speakerEncoderGraph(stored, hidden, weights),
    () => codecEncoderGraph(stored, weights),
    () => {
      decoderWeights = weights.fork();
      return codecDecoderGraph(stored, dims.decoder, weights);
    },
    ...(options.decoderStep === false
      ? []
      : [() => codecDecoderGraph(stored, dims.decoder, decoderWeights, decoderStates)]),
  ];
  for (const build of builders) {
    const variant = build();
    const file = `${variant.graph.name}.onnx`;
    const { model, data } = variant.graph.encodeWithData(17, external ? `${file}.data` : undefined);
    await writeFile(path.join(variantDirectory, file), model);
    if (data.length > 0) await writeChunks(path.join(variantDirectory, `${file}.data`), data);
  }
  await writeFile(path.join(variantDirectory, 'codec_embedding.bin'), tableBytes(tables.codec, stored));
  await writeFile(
    path.join(variantDirectory, 'residual_embeddings.bin'),
    tableBytes(tables.residual, stored),
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
      hidden,
      layers: dims.talker.layers,
      kvHeads: dims.talker.kvHeads,
      headDim: dims.talker.headDim,
      vocabSize: VOCAB,
      codeGroups: GROUPS,
      codebookSize: CODEBOOK,
      speakerEmbedding: hidden,
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
    ...(decoderStates.length > 0
      ? {
          codecDecoderStep: {
            graph: 'codec_decoder_step' as const,
            attentionWindow: dims.decoder.slidingWindow,
            states: decoderStates,
          },
        }
      : {}),
    variants: {
      [options.dtype]: {
        directory: options.dtype,
        dtype: options.dtype,
        ...(quantization ? { quantization: { method: 'MatMulNBits', ...quantization } } : {}),
      },
    },
    files: { sha256: await hashModelFiles(outDir) },
  };
  await writeFile(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}
