/**
 * A seeded PRNG (xoshiro128**, seeded through SplitMix32) so that a request's seed fixes its output
 * on every platform. nextFloat() is in the open interval (0, 1), as Gumbel noise needs.
 */
export class SeededRandom {
  private state = new Uint32Array(4);

  constructor(seed: number) {
    let value = seed >>> 0;
    for (let index = 0; index < 4; index += 1) {
      value = (value + 0x9e3779b9) >>> 0;
      let mixed = value;
      mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b) >>> 0;
      mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35) >>> 0;
      this.state[index] = (mixed ^ (mixed >>> 16)) >>> 0;
    }
    if (this.state.every((word) => word === 0)) this.state[0] = 1;
  }

  nextUint32(): number {
    const s = this.state;
    const result = Math.imul(rotate(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotate(s[3], 11);
    return result;
  }

  nextFloat(): number {
    return ((this.nextUint32() >>> 8) + 0.5) / 16777216;
  }

  fillUniform(target: Float32Array): void {
    for (let index = 0; index < target.length; index += 1) target[index] = this.nextFloat();
  }

  /** A generator that continues with the same numbers as this one from here on. */
  clone(): SeededRandom {
    const copy = new SeededRandom(0);
    copy.state.set(this.state);
    return copy;
  }
}

function rotate(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}
