import type { GraphBuilder } from '../onnx/graph-builder.ts';

/**
 * The talker's attention over the host's blocked KV cache (docs/qwen3-onnx-layout.md, "KV cache").
 *
 * The host keeps, per layer, blocks of B positions: keys as [blocks, K, D, B] (transposed inside each
 * block), values as [blocks, K, B, D]. It feeds each layer the used blocks only, as views of buffers it
 * allocated once, so the graph reads the used prefix where it lies: MatMul broadcasts the query over
 * the blocks, and only the scores and probabilities ([K, groups·S, blocks·B], D times smaller than
 * the cache) are rearranged. Nothing of the cache is gathered, sliced, concatenated or returned.
 */
export interface BlockedPast {
  /** [blocks, K, D, B] */
  keys: string;
  /** [blocks, K, B, D] */
  values: string;
  /** Additive [blocks·B]: 0 below past_length, a large negative value on the unused tail. */
  mask: string;
}

/** The additive mask over the fed blocks, from the first layer's values input and past_length. */
export function blockedPastMask(g: GraphBuilder, firstValues: string, pastLength: string): string {
  const shape = g.op('Shape', [firstValues]);
  const blocks = g.op('Gather', [shape, g.int64([0], [])]);
  const block = g.op('Gather', [shape, g.int64([2], [])]);
  const slots = g.op('Range', [g.int64([0], []), g.op('Mul', [blocks, block]), g.int64([1], [])]);
  return g.op('Where', [g.op('Less', [slots, pastLength]), g.float([0], []), g.float([-1e9], [])]);
}

/**
 * softmax(q·kᵀ/√D + mask)·v over the fed blocks followed by the S new positions (causal among
 * themselves). query [K, groups, S, D]; key and value [K, S, D]; returns [K, groups, S, D].
 */
export function blockedAttention(
  g: GraphBuilder,
  dims: { kvHeads: number; groups: number; headDim: number },
  past: BlockedPast,
  query: string,
  key: string,
  value: string,
  newMask: string,
): string {
  const { kvHeads, groups, headDim } = dims;
  const scale = g.float([1 / Math.sqrt(headDim)], []);
  const rows = g.op('Reshape', [query, g.int64([kvHeads, -1, headDim])]); // [K, G·S, D]
  // [1, K, G·S, D] × [blocks, K, D, B] → [blocks, K, G·S, B] → [K, G·S, blocks·B]
  const pastScores = g.op('Reshape', [
    g.op('Transpose', [g.op('MatMul', [g.op('Unsqueeze', [rows, g.int64([0])]), past.keys])], {
      perm: { ints: [1, 2, 0, 3] },
    }),
    g.int64([0, 0, -1]),
  ]);
  const newScores = g.op('MatMul', [rows, g.op('Transpose', [key], { perm: { ints: [0, 2, 1] } })]); // [K, G·S, S]
  const scores = g.op(
    'Concat',
    [
      g.op('Add', [g.op('Mul', [pastScores, scale]), past.mask]),
      g.op('Add', [g.op('Mul', [newScores, scale]), newMask]),
    ],
    { axis: { int: -1 } },
  );
  const probabilities = g.op('Softmax', [scores], { axis: { int: -1 } });
  const slots = g.op('Shape', [past.mask]);
  const end = g.int64([Number.MAX_SAFE_INTEGER]);
  const last = g.int64([-1]);
  const pastProbabilities = g.op('Slice', [probabilities, g.int64([0]), slots, last]);
  const newProbabilities = g.op('Slice', [probabilities, slots, end, last]);
  const block = g.op('Slice', [g.op('Shape', [past.values]), g.int64([2]), g.int64([3])]);
  // [K, G·S, blocks·B] → [blocks, K, G·S, B] × [blocks, K, B, D] → summed over blocks: [K, G·S, D]
  const fromPast = g.op(
    'ReduceSum',
    [
      g.op('MatMul', [
        g.op(
          'Transpose',
          [
            g.op('Reshape', [
              pastProbabilities,
              g.op('Concat', [g.int64([0, 0, -1]), block], { axis: { int: 0 } }),
            ]),
          ],
          { perm: { ints: [2, 0, 1, 3] } },
        ),
        past.values,
      ]),
      g.int64([0]),
    ],
    { keepdims: { int: 0 } },
  );
  const attended = g.op('Add', [fromPast, g.op('MatMul', [newProbabilities, value])]);
  return g.op('Reshape', [attended, g.int64([kvHeads, groups, -1, headDim])]);
}

/** The causal mask among S new positions, repeated for each of the `groups` query heads of a KV head: [groups·S, S]. */
export function newPositionsMask(g: GraphBuilder, sequence: string, groups: number): string {
  const index = g.op('Range', [g.int64([0], []), sequence, g.int64([1], [])]);
  const allowed = g.op('LessOrEqual', [
    g.op('Unsqueeze', [index, g.int64([0])]),
    g.op('Unsqueeze', [index, g.int64([1])]),
  ]);
  const causal = g.op('Where', [allowed, g.float([0], []), g.float([-1e9], [])]);
  return g.op('Tile', [causal, g.int64([groups, 1])]);
}
