import * as ort from 'onnxruntime-node';
import type { FloatType } from '../../onnx/tensors.ts';

/**
 * The talker's key/value cache, owned by the host: [layers, kvHeads, capacity, headDim], grown by
 * doubling. The whole cache goes into each talker run without a copy (inputs are not copied by
 * onnxruntime-node); only the new positions come back out (outputs are), so per-step traffic stays small.
 */
export class KvCache {
  private capacity: number;
  private keys: Float32Array | Uint16Array;
  private values: Float32Array | Uint16Array;
  private tensorsCache: { keys: ort.Tensor; values: ort.Tensor } | undefined;
  length = 0;

  constructor(
    private readonly layers: number,
    private readonly heads: number,
    private readonly headDim: number,
    private readonly dtype: FloatType,
    initialCapacity = 256,
  ) {
    this.capacity = initialCapacity;
    this.keys = this.allocate(initialCapacity);
    this.values = this.allocate(initialCapacity);
  }

  private allocate(capacity: number): Float32Array | Uint16Array {
    const size = this.layers * this.heads * capacity * this.headDim;
    return this.dtype === 'float16' ? new Uint16Array(size) : new Float32Array(size);
  }

  tensors(): { keys: ort.Tensor; values: ort.Tensor } {
    if (!this.tensorsCache) {
      const dims = [this.layers, this.heads, this.capacity, this.headDim];
      this.tensorsCache = {
        keys: new ort.Tensor(this.dtype, this.keys, dims),
        values: new ort.Tensor(this.dtype, this.values, dims),
      };
    }
    return this.tensorsCache;
  }

  /** Writes `sequence` new positions ([layers, kvHeads, sequence, headDim]) after the current length. */
  append(newKeys: Float32Array | Uint16Array, newValues: Float32Array | Uint16Array, sequence: number): void {
    if (this.length + sequence > this.capacity) this.grow(this.length + sequence);
    for (const [target, source] of [
      [this.keys, newKeys],
      [this.values, newValues],
    ] as const) {
      for (let row = 0; row < this.layers * this.heads; row += 1) {
        const from = row * sequence * this.headDim;
        target.set(
          source.subarray(from, from + sequence * this.headDim),
          (row * this.capacity + this.length) * this.headDim,
        );
      }
    }
    this.length += sequence;
  }

  private grow(needed: number): void {
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    for (const which of ['keys', 'values'] as const) {
      const grown = this.allocate(capacity);
      for (let row = 0; row < this.layers * this.heads; row += 1) {
        const old = this[which].subarray(
          row * this.capacity * this.headDim,
          (row * this.capacity + this.length) * this.headDim,
        );
        grown.set(old, row * capacity * this.headDim);
      }
      this[which] = grown;
    }
    this.capacity = capacity;
    this.tensorsCache = undefined;
  }
}
