import { createRequire } from 'node:module';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { GraphBuilder } from './graph-builder.ts';

// onnx-proto is CommonJS; load it through require so its namespace object comes through intact.
const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxTypes };

/**
 * Weight-only blockwise quantization in the layout of onnxruntime's com.microsoft MatMulNBits
 * (asymmetric, as its Python MatMulNBitsQuantizer writes by default): the float32 weight W [K, N]
 * of `x @ W` is cut, column by column, into blocks of `blockSize` rows along K; each block gets a
 * float32 scale and an unsigned zero point, and W[k, n] ≈ (q[k, n] - zeroPoint) * scale.
 */
export interface QuantizedMatMulWeight {
  k: number;
  n: number;
  bits: 4 | 8;
  blockSize: number;
  /** Blocks per column: ceil(K / blockSize). */
  blocks: number;
  /** B: uint8 [N, blocks, blockSize * bits / 8]; 4-bit values two to a byte, the even row in the low nibble. */
  b: Uint8Array;
  bDims: [number, number, number];
  /** float32 [N, blocks]. */
  scales: Float32Array;
  scalesDims: [number, number];
  /** uint8 [N, ceil(blocks / 2)] at 4 bits (even block in the low nibble), [N, blocks] at 8 bits. */
  zeroPoints: Uint8Array;
  zeroPointsDims: [number, number];
}

const f32 = Math.fround;

/** roundf: halves away from zero. */
function roundHalfAway(value: number): number {
  return value < 0 ? -Math.round(-value) : Math.round(value);
}

/**
 * Quantizes a float32 weight [K, N] (row-major, as the MatMul's second input) for MatMulNBits.
 * Follows the arithmetic of onnxruntime's quantizer in float32, so the bytes equal what it writes.
 */
export function quantizeMatMulWeight(
  values: Float32Array,
  k: number,
  n: number,
  bits: 4 | 8,
  blockSize: number,
): QuantizedMatMulWeight {
  if (bits !== 4 && bits !== 8)
    throw new Error(`MatMulNBits weights here are 4 or 8 bits, not ${String(bits)}`);
  if (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0)
    throw new Error(`block size ${blockSize}: MatMulNBits needs a power of 2 of at least 16`);
  if (!Number.isInteger(k) || !Number.isInteger(n) || k <= 0 || n <= 0)
    throw new Error(`weight shape [${k}, ${n}] is not a positive [K, N]`);
  if (values.length !== k * n)
    throw new Error(`weight has ${values.length} values, not K × N = ${k} × ${n} = ${k * n}`);

  const levels = (1 << bits) - 1;
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const b = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zeroPointColumns = bits === 4 ? Math.ceil(blocks / 2) : blocks;
  // An unused 4-bit zero point (odd block count) holds the midpoint, as onnxruntime's does.
  const zeroPoints = new Uint8Array(n * zeroPointColumns).fill(bits === 4 ? 0x88 : 0);

  for (let column = 0; column < n; column += 1) {
    for (let block = 0; block < blocks; block += 1) {
      const start = block * blockSize;
      const end = Math.min(start + blockSize, k);
      let min = 0;
      let max = 0;
      for (let row = start; row < end; row += 1) {
        const value = values[row * n + column];
        if (value < min) min = value;
        if (value > max) max = value;
      }
      const scale = f32(f32(max - min) / levels);
      let zeroPoint: number;
      const zeroPointFloat = scale !== 0 ? f32(0 - f32(min / scale)) : min;
      if (zeroPointFloat < 0) zeroPoint = 0;
      else if (zeroPointFloat > levels) zeroPoint = levels;
      else zeroPoint = roundHalfAway(zeroPointFloat);
      const reciprocal = scale !== 0 ? f32(1 / scale) : 0;
      scales[column * blocks + block] = scale;
      if (bits === 8) zeroPoints[column * zeroPointColumns + block] = zeroPoint;
      else {
        const index = column * zeroPointColumns + (block >> 1);
        zeroPoints[index] =
          block % 2 === 0
            ? (zeroPoints[index] & 0xf0) | zeroPoint
            : (zeroPoints[index] & 0x0f) | (zeroPoint << 4);
      }
      const base = (column * blocks + block) * blob;
      for (let row = start; row < end; row += 1) {
        const scaled = roundHalfAway(f32(f32(values[row * n + column] * reciprocal) + zeroPoint));
        const q = Math.min(Math.max(scaled, 0), levels);
        const offset = row - start;
        if (bits === 8) b[base + offset] = q;
        else b[base + (offset >> 1)] |= offset % 2 === 0 ? q : q << 4;
      }
    }
  }
  return {
    k,
    n,
    bits,
    blockSize,
    blocks,
    b,
    bDims: [n, blocks, blob],
    scales,
    scalesDims: [n, blocks],
    zeroPoints,
    zeroPointsDims: [n, zeroPointColumns],
  };
}

/** The weight the quantized one stands for: float32 [K, N], (q - zeroPoint) * scale. */
export function dequantizeMatMulWeight(weight: QuantizedMatMulWeight): Float32Array {
  const { k, n, bits, blockSize, blocks, b, scales, zeroPoints } = weight;
  const blob = (blockSize * bits) / 8;
  const zeroPointColumns = weight.zeroPointsDims[1];
  const result = new Float32Array(k * n);
  for (let column = 0; column < n; column += 1) {
    for (let row = 0; row < k; row += 1) {
      const block = Math.floor(row / blockSize);
      const offset = row - block * blockSize;
      const byte = b[(column * blocks + block) * blob + (bits === 8 ? offset : offset >> 1)];
      const q = bits === 8 ? byte : offset % 2 === 0 ? byte & 0x0f : byte >> 4;
      const zeroByte = zeroPoints[column * zeroPointColumns + (bits === 8 ? block : block >> 1)];
      const zeroPoint = bits === 8 ? zeroByte : block % 2 === 0 ? zeroByte & 0x0f : zeroByte >> 4;
      result[row * n + column] = f32((q - zeroPoint) * scales[column * blocks + block]);
    }
  }
  return result;
}

/**
 * Adds `input @ W` as a com.microsoft MatMulNBits node with the quantized weight's initializers;
 * returns the output's name. accuracy_level 4 (the default here) lets the CPU kernel compute in
 * int8, the fastest; 0 leaves it unset (float32 compute, much slower on CPU).
 */
export function addMatMulNBits(
  graph: GraphBuilder,
  input: string,
  weight: QuantizedMatMulWeight,
  options: { accuracyLevel?: 0 | 1 | 2 | 3 | 4 } = {},
): string {
  return applyMatMulNBits(graph, input, matMulNBitsInitializers(graph, weight), options);
}

/** A quantized weight's initializers in a graph: B, scales, zero points (and the shape facts). */
export interface MatMulNBitsInitializers {
  weight: Pick<QuantizedMatMulWeight, 'k' | 'n' | 'bits' | 'blockSize'>;
  names: [b: string, scales: string, zeroPoints: string];
}

/** Adds a quantized weight's initializers once, so that several MatMulNBits nodes can share them. */
export function matMulNBitsInitializers(
  graph: GraphBuilder,
  weight: QuantizedMatMulWeight,
): MatMulNBitsInitializers {
  return {
    weight: { k: weight.k, n: weight.n, bits: weight.bits, blockSize: weight.blockSize },
    names: [
      graph.tensor(weight.b, weight.bDims, 'uint8'),
      graph.tensor(weight.scales, weight.scalesDims, 'float32'),
      graph.tensor(weight.zeroPoints, weight.zeroPointsDims, 'uint8'),
    ],
  };
}

/** `input @ W` as a MatMulNBits node over initializers already in the graph; returns the output. */
export function applyMatMulNBits(
  graph: GraphBuilder,
  input: string,
  { weight, names }: MatMulNBitsInitializers,
  options: { accuracyLevel?: 0 | 1 | 2 | 3 | 4 } = {},
): string {
  const accuracyLevel = options.accuracyLevel ?? 4;
  return graph.op(
    'MatMulNBits',
    [input, ...names],
    {
      K: { int: weight.k },
      N: { int: weight.n },
      bits: { int: weight.bits },
      block_size: { int: weight.blockSize },
      ...(accuracyLevel ? { accuracy_level: { int: accuracyLevel } } : {}),
    },
    1,
    'com.microsoft',
  );
}

/**
 * A serialized ONNX model with every MatMul whose weight is a 2-D float32 initializer (read directly
 * or through an Identity) turned into MatMulNBits; a weight read by several MatMuls is quantized
 * once and shared. `keep` names MatMul nodes left float32. Weights kept outside the file (external
 * data) are left as they are. Returns the new model and how many nodes changed.
 */
export function quantizeOnnxModel(
  model: Uint8Array,
  options: {
    bits: 4 | 8;
    blockSize: number;
    accuracyLevel?: 0 | 1 | 2 | 3 | 4;
    keep?: (nodeName: string) => boolean;
  },
): { model: Uint8Array; quantized: number } {
  const proto = onnx.ModelProto.decode(model);
  const graph = proto.graph!;
  const initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name!, tensor]));
  const identities = new Map<string, string>();
  for (const node of graph.node ?? [])
    if (node.opType === 'Identity' && initializers.has(node.input![0]))
      identities.set(node.output![0], node.input![0]);
  const accuracyLevel = options.accuracyLevel ?? 4;
  const shared = new Map<string, { b: string; scales: string; zeroPoints: string; k: number; n: number }>();
  let quantized = 0;
  for (const node of graph.node ?? []) {
    if (node.opType !== 'MatMul' || options.keep?.(node.name ?? '')) continue;
    const weightName = identities.get(node.input![1]) ?? node.input![1];
    const tensor = initializers.get(weightName);
    const dims = (tensor?.dims ?? []).map(Number);
    if (!tensor?.rawData || tensor.dataType !== 1 || dims.length !== 2) continue;
    let entry = shared.get(weightName);
    if (!entry) {
      // A copy: decoded bytes may be a view into a larger (Node Buffer) pool, and unaligned.
      const values = new Float32Array(new Uint8Array(tensor.rawData).buffer, 0, dims[0] * dims[1]);
      const weight = quantizeMatMulWeight(values, dims[0], dims[1], options.bits, options.blockSize);
      const add = (name: string, data: Uint8Array | Float32Array, tensorDims: number[], dataType: number) => {
        graph.initializer!.push({
          name,
          dataType,
          dims: tensorDims,
          rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        });
        return name;
      };
      entry = {
        b: add(`${weightName}_Q${options.bits}`, weight.b, weight.bDims, 2),
        scales: add(`${weightName}_scales`, weight.scales, weight.scalesDims, 1),
        zeroPoints: add(`${weightName}_zero_points`, weight.zeroPoints, weight.zeroPointsDims, 2),
        k: dims[0],
        n: dims[1],
      };
      shared.set(weightName, entry);
    }
    node.opType = 'MatMulNBits';
    node.domain = 'com.microsoft';
    node.input = [node.input![0], entry.b, entry.scales, entry.zeroPoints];
    node.attribute = [
      { name: 'K', type: 2, i: entry.k },
      { name: 'N', type: 2, i: entry.n },
      { name: 'bits', type: 2, i: options.bits },
      { name: 'block_size', type: 2, i: options.blockSize },
      ...(accuracyLevel ? [{ name: 'accuracy_level', type: 2, i: accuracyLevel }] : []),
    ];
    quantized += 1;
  }
  // Float weights (and their Identities) that nothing reads any more are dropped.
  const read = () => new Set((graph.node ?? []).flatMap((node) => node.input ?? []));
  let used = read();
  graph.node = (graph.node ?? []).filter(
    (node) => !(node.opType === 'Identity' && identities.has(node.output![0]) && !used.has(node.output![0])),
  );
  used = read();
  const outputs = new Set((graph.output ?? []).map((output) => output.name));
  graph.initializer = (graph.initializer ?? []).filter(
    (tensor) => used.has(tensor.name!) || outputs.has(tensor.name),
  );
  if (quantized > 0 && !(proto.opsetImport ?? []).some((entry) => entry.domain === 'com.microsoft'))
    proto.opsetImport = [...(proto.opsetImport ?? []), { domain: 'com.microsoft', version: 1 }];
  return { model: onnx.ModelProto.encode(proto).finish(), quantized };
}
