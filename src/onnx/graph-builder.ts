import { createRequire } from 'node:module';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { float32ToFloat16Bits } from './float16.ts';

// onnx-proto is CommonJS; load it through require so its namespace object comes through intact.
const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxTypes };

export type ElementType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'uint8';
const DATA_TYPES: Record<ElementType, number> = {
  float32: 1,
  float16: 10,
  int64: 7,
  int32: 6,
  bool: 9,
  uint8: 2,
};

/** Opset versions of the non-default operator domains a graph may use (com.microsoft contrib ops). */
const DOMAIN_VERSIONS: Record<string, number> = { 'com.microsoft': 1 };

export type AttributeValue =
  { int: number } | { float: number } | { ints: number[] } | { floats: number[] } | { string: string };

/** A dimension: a fixed size, or a name for a size that varies between runs. */
export type Dimension = number | string;

/**
 * A small builder for ONNX graphs, used to write synthetic models with exactly the real models'
 * inputs and outputs. Every op returns the name of its output so graphs read like code.
 */
export class GraphBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  /** Non-default operator domains used by nodes (each gets an opset import). */
  private readonly domains = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  private valueInfo(name: string, type: ElementType, dims: Dimension[]): OnnxTypes.IValueInfoProto {
    return {
      name,
      type: {
        tensorType: {
          elemType: DATA_TYPES[type],
          shape: {
            dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })),
          },
        },
      },
    };
  }

  input(name: string, type: ElementType, dims: Dimension[]): string {
    this.inputs.push(this.valueInfo(name, type, dims));
    return name;
  }

  /** Declares `value` as a graph output under `name` (through an Identity). */
  output(value: string, name: string, type: ElementType, dims: Dimension[]): void {
    this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: this.fresh('out') });
    this.outputs.push(this.valueInfo(name, type, dims));
  }

  /** A weight or constant. float16 data is given as float32 and converted; Uint8Array is bool unless `type` says uint8. */
  tensor(
    data: Float32Array | BigInt64Array | Int32Array | Uint8Array,
    dims: number[],
    type?: ElementType,
    name?: string,
  ): string {
    const tensorName = name ?? this.fresh('w');
    const elementType: ElementType =
      type ??
      (data instanceof BigInt64Array
        ? 'int64'
        : data instanceof Int32Array
          ? 'int32'
          : data instanceof Uint8Array
            ? 'bool'
            : 'float32');
    let raw: Uint8Array;
    if (elementType === 'float16' && data instanceof Float32Array)
      raw = new Uint8Array(float32ToFloat16Bits(data).buffer);
    else raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name: tensorName, dataType: DATA_TYPES[elementType], dims, rawData: raw });
    return tensorName;
  }

  int64(values: number[], dims: number[] = [values.length]): string {
    return this.tensor(BigInt64Array.from(values.map(BigInt)), dims, 'int64');
  }

  float(values: number[], dims: number[] = [values.length]): string {
    return this.tensor(Float32Array.from(values), dims, 'float32');
  }

  op(
    type: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    outputCount = 1,
    domain = '',
  ): string {
    return this.opMany(type, inputs, attributes, outputCount, domain)[0];
  }

  /** `domain`: '' for standard ONNX ops, or a contrib domain such as 'com.microsoft'. */
  opMany(
    type: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    outputCount = 1,
    domain = '',
  ): string[] {
    if (domain && !(domain in DOMAIN_VERSIONS))
      throw new Error(`operator domain ${domain} is not known to the graph builder`);
    const outputs = Array.from({ length: outputCount }, () => this.fresh(type.toLowerCase()));
    this.nodes.push({
      opType: type,
      input: inputs,
      output: outputs,
      name: this.fresh(`${type}_node`),
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
      ...(domain ? { domain } : {}),
    });
    if (domain) this.domains.add(domain);
    return outputs;
  }

  /**
   * Serialises the model (opset 17, IR 8). With `externalDataFile`, weights over 1 MiB go into that
   * file (written next to the model by the caller), as graphs over protobuf's 2 GB limit must.
   */
  encode(opset = 17, externalDataFile?: string): Uint8Array {
    return this.encodeWithData(opset, externalDataFile).model;
  }

  encodeWithData(opset = 17, externalDataFile?: string): { model: Uint8Array; data: Buffer[] } {
    const data: Buffer[] = [];
    if (externalDataFile) {
      let offset = 0;
      for (const initializer of this.initializers) {
        const raw = initializer.rawData as Uint8Array;
        if (raw.byteLength < 1 << 20) continue;
        // Offsets are page-aligned, as onnxruntime memory-maps external data.
        const padding = (4096 - (offset % 4096)) % 4096;
        if (padding) data.push(Buffer.alloc(padding));
        offset += padding;
        data.push(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
        initializer.rawData = undefined;
        initializer.dataLocation = 1;
        initializer.externalData = [
          { key: 'location', value: externalDataFile },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.byteLength) },
        ];
        offset += raw.byteLength;
      }
    }
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'voice-clone-server synthetic model',
      opsetImport: [
        { domain: '', version: opset },
        ...[...this.domains].map((domain) => ({ domain, version: DOMAIN_VERSIONS[domain] })),
      ],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return { model: onnx.ModelProto.encode(model).finish(), data };
  }
}

function attribute(name: string, value: AttributeValue): OnnxTypes.IAttributeProto {
  if ('int' in value) return { name, type: 2, i: value.int };
  if ('float' in value) return { name, type: 1, f: value.float };
  if ('ints' in value) return { name, type: 7, ints: value.ints };
  if ('floats' in value) return { name, type: 6, floats: value.floats };
  return { name, type: 3, s: new TextEncoder().encode(value.string) };
}
