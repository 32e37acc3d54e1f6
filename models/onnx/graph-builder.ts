import { endianness } from 'node:os';
import { VidxError } from '../../core/errors.ts';
import { ONNX_FLOAT, ONNX_INT32, ONNX_INT64, onnx } from './proto.ts';
import type { OnnxTypes } from './proto.ts';

/** A graph input/output dimension: a size, or a symbolic name such as "N" (dynamic batch). */
export type Dim = number | string;

export type AttributeValue = { int: number } | { ints: readonly number[] } | { float: number } | { string: string };

/** Element types a graph input or output may have. */
export type ValueType = 'float32' | 'int64' | 'int32';

const ELEMENT_TYPE: Record<ValueType, number> = { float32: ONNX_FLOAT, int64: ONNX_INT64, int32: ONNX_INT32 };

export interface ModelOptions {
  opset: number;
  producer: string;
  docString?: string;
}

/** ONNX IR version that goes with opset 17 (ONNX 1.12+). */
const IR_VERSION = 8;

/**
 * Accumulates an ONNX graph (value infos, float32 initializers, nodes in topological order)
 * and encodes it as a ModelProto. Names must be unique; the builder refuses a duplicate,
 * which would otherwise silently rewire the graph.
 */
export class OnnxGraphBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly names = new Set<string>();

  input(name: string, shape: readonly Dim[], type: ValueType = 'float32'): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, shape, type));
    return name;
  }

  output(name: string, shape: readonly Dim[], type: ValueType = 'float32'): void {
    if (!this.names.has(name)) {
      throw new VidxError('ONNX_GRAPH_INVALID', `graph output "${name}" is not produced by any node`, {
        hint: 'produce the value with a node before declaring it an output',
      });
    }
    this.outputs.push(valueInfo(name, shape, type));
  }

  /** A float32 constant. The bytes are referenced, not copied, until the model is encoded. */
  initializer(name: string, dims: readonly number[], data: Float32Array): string {
    this.claim(name);
    this.initializers.push({ name, dims: [...dims], dataType: ONNX_FLOAT, rawData: littleEndianBytes(data) });
    return name;
  }

  /** An int64 constant (shapes, indices, slice bounds). */
  int64Initializer(name: string, dims: readonly number[], values: readonly number[] | BigInt64Array): string {
    this.claim(name);
    const data = values instanceof BigInt64Array ? values : BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ name, dims: [...dims], dataType: ONNX_INT64, rawData: littleEndianBytes(data) });
    return name;
  }

  /** Adds a node with a single output named `output`; returns that name. */
  node(opType: string, inputs: readonly string[], output: string, attributes: Record<string, AttributeValue> = {}): string {
    return this.nodeMulti(opType, inputs, [output], attributes)[0]!;
  }

  /**
   * Adds a node with several outputs (TopK, Split, ...); returns their names. An empty input
   * name stands for an optional input left out, as ONNX spells it.
   */
  nodeMulti(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string[] {
    for (const input of inputs) {
      if (input === '') continue;
      if (!this.names.has(input)) {
        throw new VidxError('ONNX_GRAPH_INVALID', `${opType} node "${outputs[0]}" reads "${input}", which does not exist yet`, {
          hint: 'add nodes in topological order',
        });
      }
    }
    for (const output of outputs) this.claim(output);
    this.nodes.push({
      opType,
      name: outputs[0],
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([attrName, value]) => attributeProto(attrName, value)),
    });
    return [...outputs];
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  encode(options: ModelOptions): Uint8Array {
    return onnx.ModelProto.encode(this.toModel(options)).finish();
  }

  /** The ModelProto as an object (initializer bytes still referenced), e.g. to derive other entries from it. */
  toModel(options: ModelOptions): OnnxTypes.IModelProto {
    return {
      irVersion: IR_VERSION,
      producerName: options.producer,
      opsetImport: [{ domain: '', version: options.opset }],
      docString: options.docString ?? '',
      graph: {
        name: options.producer,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }

  private claim(name: string): void {
    if (this.names.has(name)) {
      throw new VidxError('ONNX_GRAPH_INVALID', `value name "${name}" is used twice`, {
        hint: 'give every node output and initializer its own name',
      });
    }
    this.names.add(name);
  }
}

function valueInfo(name: string, shape: readonly Dim[], type: ValueType): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPE[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, value: AttributeValue): OnnxTypes.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: [...value.ints] };
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  if ('string' in value) return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) };
  return { name, type: AttributeType.FLOAT, f: value.float };
}

/** ONNX raw_data is little-endian; a view of the array is exactly that on every platform Node ships for. */
function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  if (endianness() !== 'LE') {
    throw new VidxError('ONNX_GRAPH_INVALID', 'big-endian hosts are not supported for writing ONNX weights', {
      hint: 'build the model on a little-endian machine (x86-64, arm64)',
    });
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
