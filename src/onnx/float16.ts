/** IEEE half-precision conversions, for float16 tensors (graph inputs, weights, tables). */

/** IEEE 754 half precision bit patterns (round to nearest even), as onnxruntime-node takes float16. */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const result = new Uint16Array(values.length);
  const view = new DataView(new ArrayBuffer(4));
  for (let index = 0; index < values.length; index += 1) {
    view.setFloat32(0, values[index]);
    const bits = view.getUint32(0);
    const sign = (bits >>> 16) & 0x8000;
    const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
    let mantissa = bits & 0x7fffff;
    if (exponent >= 31) {
      result[index] =
        sign | 0x7c00 | ((bits & 0x7fffff) !== 0 && ((bits >>> 23) & 0xff) === 0xff ? 0x200 : 0);
    } else if (exponent <= 0) {
      if (exponent < -10) result[index] = sign;
      else {
        mantissa |= 0x800000;
        const shift = 14 - exponent;
        let half = mantissa >> shift;
        const remainder = mantissa & ((1 << shift) - 1);
        const halfway = 1 << (shift - 1);
        if (remainder > halfway || (remainder === halfway && half & 1)) half += 1;
        result[index] = sign | half;
      }
    } else {
      let half = sign | (exponent << 10) | (mantissa >> 13);
      const remainder = mantissa & 0x1fff;
      if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half += 1;
      result[index] = half;
    }
  }
  return result;
}

export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const result = new Float32Array(bits.length);
  for (let index = 0; index < bits.length; index += 1) {
    const value = bits[index];
    const sign = value & 0x8000 ? -1 : 1;
    const exponent = (value >> 10) & 0x1f;
    const fraction = value & 0x3ff;
    if (exponent === 0) result[index] = sign * 2 ** -14 * (fraction / 1024);
    else if (exponent === 31) result[index] = fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else result[index] = sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return result;
}
