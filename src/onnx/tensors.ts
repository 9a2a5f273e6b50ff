import * as ort from 'onnxruntime-node';
import { float16BitsToFloat32, float32ToFloat16Bits } from './float16.ts';

export type FloatType = 'float32' | 'float16';

/** A float tensor in the graph's dtype (float16 travels as Uint16 bit patterns). */
export function floatTensor(values: Float32Array, dims: number[], type: FloatType): ort.Tensor {
  return type === 'float16'
    ? new ort.Tensor('float16', float32ToFloat16Bits(values), dims)
    : new ort.Tensor('float32', values, dims);
}

export function int64Tensor(values: number[] | BigInt64Array, dims: number[]): ort.Tensor {
  return new ort.Tensor(
    'int64',
    values instanceof BigInt64Array ? values : BigInt64Array.from(values.map(BigInt)),
    dims,
  );
}

export function scalarInt64(value: number): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from([BigInt(value)]), []);
}

export function scalarFloat(value: number): ort.Tensor {
  return new ort.Tensor('float32', Float32Array.from([value]), []);
}

/** A float output as float32, whatever the graph's dtype. */
export function readFloats(tensor: ort.Tensor): Float32Array {
  if (tensor.type === 'float16') return float16BitsToFloat32(tensor.data as Uint16Array);
  return tensor.data as Float32Array;
}
