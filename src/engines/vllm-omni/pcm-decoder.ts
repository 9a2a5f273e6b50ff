/**
 * Turns a stream of little-endian 16-bit PCM bytes into float samples. HTTP chunks can split a
 * sample in half; the odd byte is kept for the next chunk.
 */
export class Pcm16Decoder {
  private carry: number | undefined;

  push(chunk: Uint8Array): Float32Array {
    let bytes = chunk;
    if (this.carry !== undefined) {
      const joined = new Uint8Array(chunk.length + 1);
      joined[0] = this.carry;
      joined.set(chunk, 1);
      bytes = joined;
      this.carry = undefined;
    }
    const whole = bytes.length - (bytes.length % 2);
    if (whole !== bytes.length) this.carry = bytes[bytes.length - 1];
    const view = new DataView(bytes.buffer, bytes.byteOffset, whole);
    const samples = new Float32Array(whole / 2);
    for (let index = 0; index < samples.length; index += 1)
      samples[index] = view.getInt16(index * 2, true) / 32768;
    return samples;
  }

  /** True when a trailing half sample is left over (a stream that ended mid-sample). */
  get hasRemainder(): boolean {
    return this.carry !== undefined;
  }
}
