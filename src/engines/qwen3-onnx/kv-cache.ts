import * as ort from 'onnxruntime-node';
import { talkerPastName } from '../../models/qwen3-manifest.ts';
import type { FloatType } from '../../onnx/tensors.ts';

/**
 * Positions per cache block. The talker reads the used blocks in one batched MatMul per layer, so
 * smaller blocks mean more, smaller products and larger ones more masked tail positions; 64 gave the
 * fastest attention products at 1800 positions with the real-size model's heads (README, "KV cache").
 */
export const KV_BLOCK = 64;

/**
 * The talker's key/value cache, owned by the host and read by the talker graph where it lies
 * (layout contract 3): per layer, blocks of KV_BLOCK positions, keys as [blocks, kvHeads, headDim,
 * block] (transposed within a block, so the graph multiplies by them directly) and values as
 * [blocks, kvHeads, block, headDim]. The used blocks are a prefix of each layer's buffer, fed as a
 * view (onnxruntime-node does not copy inputs); only the new positions come out of the graph
 * (outputs are copied) and are written here. Nothing grows or moves during a request.
 *
 * The buffers are allocated once, for the model's maxPositions, and kept by the worker for every
 * later request: the operating system commits a page when it is first written, so memory in use is
 * what the longest request so far reached, and later requests take no page faults up to there.
 */
export class KvCache {
  private readonly keys: (Float32Array | Uint16Array)[];
  private readonly values: (Float32Array | Uint16Array)[];
  private readonly blockSize: number;
  private readonly maxBlocks: number;
  private feedsCache: { blocks: number; feeds: Record<string, ort.Tensor> } | undefined;
  /** Positions written so far in the current request. */
  length = 0;

  constructor(
    private readonly layers: number,
    private readonly heads: number,
    private readonly headDim: number,
    private readonly dtype: FloatType,
    maxPositions: number,
    blockSize = KV_BLOCK,
  ) {
    this.blockSize = blockSize;
    this.maxBlocks = Math.ceil(maxPositions / blockSize);
    const size = this.maxBlocks * heads * headDim * blockSize;
    const allocate = () => (dtype === 'float16' ? new Uint16Array(size) : new Float32Array(size));
    this.keys = Array.from({ length: layers }, allocate);
    this.values = Array.from({ length: layers }, allocate);
  }

  /** Positions the buffers hold. */
  get capacity(): number {
    return this.maxBlocks * this.blockSize;
  }

  /** Starts a request: earlier contents stay in place and are masked out until overwritten. */
  reset(): void {
    this.length = 0;
  }

  /** The talker's cache inputs for the current length: the used blocks of every layer (at least one). */
  feeds(): Record<string, ort.Tensor> {
    const blocks = Math.max(1, Math.ceil(this.length / this.blockSize));
    if (this.feedsCache?.blocks !== blocks) {
      const { heads, headDim, blockSize } = this;
      const used = blocks * heads * headDim * blockSize;
      const feeds: Record<string, ort.Tensor> = {};
      for (let layer = 0; layer < this.layers; layer += 1) {
        feeds[talkerPastName('keys', layer)] = new ort.Tensor(
          this.dtype,
          this.keys[layer].subarray(0, used),
          [blocks, heads, headDim, blockSize],
        );
        feeds[talkerPastName('values', layer)] = new ort.Tensor(
          this.dtype,
          this.values[layer].subarray(0, used),
          [blocks, heads, blockSize, headDim],
        );
      }
      this.feedsCache = { blocks, feeds };
    }
    return this.feedsCache.feeds;
  }

  /** Writes `sequence` new positions ([layers, kvHeads, sequence, headDim] each) after the current length. */
  append(newKeys: Float32Array | Uint16Array, newValues: Float32Array | Uint16Array, sequence: number): void {
    if (this.length + sequence > this.capacity)
      throw new Error(
        `the talker's context would reach ${this.length + sequence} positions; the model allows ${this.capacity}`,
      );
    const { heads, headDim, blockSize } = this;
    for (let layer = 0; layer < this.layers; layer += 1) {
      const keys = this.keys[layer];
      const values = this.values[layer];
      for (let head = 0; head < heads; head += 1) {
        const sourceRow = (layer * heads + head) * sequence;
        // Block by block, so that every write is a sequential run (the keys' transposed one included).
        for (let step = 0; step < sequence;) {
          const position = this.length + step;
          const block = Math.floor(position / blockSize);
          const slot = position % blockSize;
          const run = Math.min(sequence - step, blockSize - slot);
          const from = (sourceRow + step) * headDim;
          const blockHead = block * heads + head;
          values.set(
            newValues.subarray(from, from + run * headDim),
            (blockHead * blockSize + slot) * headDim,
          );
          // Keys are stored transposed within the block: dimension d of slot s at d·block + s.
          const keyBase = blockHead * headDim * blockSize + slot;
          for (let dim = 0; dim < headDim; dim += 1) {
            const target = keyBase + dim * blockSize;
            for (let offset = 0; offset < run; offset += 1)
              keys[target + offset] = newKeys[from + offset * headDim + dim];
          }
          step += run;
        }
      }
    }
    this.length += sequence;
  }

  /**
   * Writes the pages of the first `positions` positions, so that requests up to that length take no
   * page faults (the worker's warm-up calls it). Only between requests: it clears what is there.
   */
  prefault(positions: number): void {
    const blocks = Math.min(this.maxBlocks, Math.ceil(positions / this.blockSize));
    const used = blocks * this.heads * this.headDim * this.blockSize;
    for (const buffer of [...this.keys, ...this.values]) buffer.fill(0, 0, used);
  }

  /** The buffers, so tests can see that a worker reuses them. */
  buffers(): ArrayBufferLike[] {
    return [...this.keys, ...this.values].map((array) => array.buffer);
  }
}
