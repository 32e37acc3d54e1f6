/**
 * The float16 form of a float32 graph: weights stored and computed in float16 (half the bytes,
 * tensor cores on a GPU), inputs and outputs still float32. Every float32 graph input `x` gets a
 * Cast to float16 in front of its consumers; every float32 output gets a Cast back to float32,
 * so callers (and uint8Entry, applied after this) see the same interface as the float32 graph.
 *
 * Meant for the GPU: onnxruntime's CPU provider has no float16 kernels for most of these ops
 * (Conv, pools), so a session of this graph on the CPU fails at load time.
 */
import { endianness } from 'node:os';
import { VidxError } from '../../core/errors.ts';
import { ONNX_FLOAT, ONNX_FLOAT16, onnx } from './proto.ts';
import type { OnnxTypes } from './proto.ts';

const SCRATCH_F32 = new Float32Array(1);
const SCRATCH_U32 = new Uint32Array(SCRATCH_F32.buffer);

/** IEEE 754 binary16 bits of a number (round to nearest, ties to even), as numpy's astype(float16). */
export function float16Bits(value: number): number {
  SCRATCH_F32[0] = value;
  const x = SCRATCH_U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> 0
    const m = mant | 0x800000; // subnormal: shift in the implicit bit
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // may carry into the exponent: still right
  return sign | h;
}

function floatValues(t: OnnxTypes.ITensorProto): Float32Array {
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    // Copy to an aligned buffer: decoded raw_data may start at any byte offset.
    const aligned = new Uint8Array(raw.length);
    aligned.set(raw);
    return new Float32Array(aligned.buffer);
  }
  return Float32Array.from(t.floatData ?? []);
}

function toHalfTensor(t: OnnxTypes.ITensorProto): OnnxTypes.ITensorProto {
  const values = floatValues(t);
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = float16Bits(values[i]!);
  return { name: t.name, dims: t.dims, dataType: ONNX_FLOAT16, rawData: new Uint8Array(bits.buffer) };
}

function elemType(v: OnnxTypes.IValueInfoProto): number | undefined {
  return v.type?.tensorType?.elemType ?? undefined;
}

/** The float16 form of `model` (not modified). */
export function toFloat16(model: OnnxTypes.IModelProto): OnnxTypes.IModelProto {
  if (endianness() !== 'LE') throw new VidxError('ONNX_GRAPH_INVALID', 'big-endian hosts are not supported for writing ONNX weights');
  const graph = model.graph;
  if (!graph) throw new VidxError('ONNX_GRAPH_INVALID', 'the model has no graph');
  const { INT } = onnx.AttributeProto.AttributeType;
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const rename = new Map<string, string>();
  const front: OnnxTypes.INodeProto[] = [];
  for (const input of graph.input ?? []) {
    const name = input.name ?? '';
    if (initializerNames.has(name) || elemType(input) !== ONNX_FLOAT) continue;
    rename.set(name, `${name}.fp16`);
    front.push({ opType: 'Cast', name: `${name}.fp16`, input: [name], output: [`${name}.fp16`], attribute: [{ name: 'to', type: INT, i: ONNX_FLOAT16 }] });
  }
  const back: OnnxTypes.INodeProto[] = [];
  const outputRename = new Map<string, string>();
  for (const output of graph.output ?? []) {
    const name = output.name ?? '';
    if (elemType(output) !== ONNX_FLOAT) continue;
    outputRename.set(name, `${name}.fp16`);
    back.push({ opType: 'Cast', name: `${name}.to_float32`, input: [`${name}.fp16`], output: [name], attribute: [{ name: 'to', type: INT, i: ONNX_FLOAT }] });
  }
  const nodes = (graph.node ?? []).map((n) => {
    const attribute = (n.attribute ?? []).map((a) => {
      if (n.opType === 'Cast' && a.name === 'to' && Number(a.i) === ONNX_FLOAT) return { ...a, i: ONNX_FLOAT16 };
      if (n.opType === 'Constant' && a.t && a.t.dataType === ONNX_FLOAT) return { ...a, t: toHalfTensor(a.t) };
      return a;
    });
    return {
      ...n,
      input: (n.input ?? []).map((i) => rename.get(i) ?? outputRename.get(i) ?? i),
      output: (n.output ?? []).map((o) => outputRename.get(o) ?? o),
      attribute,
    };
  });
  return {
    ...model,
    docString: `${model.docString ?? ''} [float16 weights and compute; float32 in and out]`.trim(),
    graph: {
      ...graph,
      node: [...front, ...nodes, ...back],
      initializer: (graph.initializer ?? []).map((t) => (t.dataType === ONNX_FLOAT ? toHalfTensor(t) : t)),
      // Intermediate types changed; let the runtime infer them again.
      valueInfo: [],
    },
  };
}
