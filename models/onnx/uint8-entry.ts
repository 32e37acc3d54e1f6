/**
 * The uint8 entry of a model bundle: the float graph with the preprocessing prepended, so the
 * host hands the model bytes exactly as ffmpeg writes them and the device does the math.
 *
 * Interface (for every builder; nothing here is per architecture):
 *
 *   uint8Entry(floatModel, { frames, inputRange, mean, std, padTo? }) -> ModelProto
 *
 *   - Every float graph input shaped [N, 3, T, H, W] (a video pathway, NCTHW) is fed from ONE
 *     uint8 input `frames` [N, frames, H, W, 3] (NTHWC: the window's frames, rgb24 as decoded).
 *     An input with T = frames takes them all; an input with fewer takes the contract's
 *     subsample inputFrameIndices(frames, T) (PackPathway: SlowFast's `slow`), by a Gather on
 *     the fast frames, so each frame crosses to the device once.
 *   - Every float graph input shaped [N, 3, H, W] (an image, NCHW) `x` is fed from a uint8
 *     input `x_u8` [N, H, W, 3]. With `padTo` (torchvision detection's size_divisible), `x_u8`
 *     takes an image of any H and W and the graph pads the NORMALIZED image with zeros at the
 *     right and bottom up to the next multiples of padTo, the pads computed from the runtime
 *     shape (Shape, Slice, Mod, Sub, Mod, Concat, Pad constant 0): as GeneralizedRCNNTransform
 *     batches images. Padding bytes on the host could not give these zeros (0 normalizes to
 *     -mean/std), so it has to happen here, after the normalization.
 *   - Any other input (e.g. detection `boxes` [K, 5]) is passed through unchanged.
 *   - H and W may be numbers or symbolic (dynamic); all video inputs must share them.
 *   - The math, in float32 and in the order PyTorch applies it (so it equals the float path's
 *     normalizationTable exactly): x = v / (255 / (hi - lo)) + lo, then (x - mean_c) / std_c;
 *     then the layout change (channels first). Steps that are the identity are left out.
 *   - Outputs, weights and every other node are the float graph's, untouched.
 *
 * Apply it to the float model (or to its float16 form, see float16.ts: the prefix then runs in
 * float32 and the Cast to float16 that form starts with follows it).
 */
import { VidxError } from '../../core/errors.ts';
import { inputFrameIndices } from '../../core/video/windows.ts';
import { ONNX_FLOAT, ONNX_INT64, ONNX_UINT8, onnx } from './proto.ts';
import type { OnnxTypes } from './proto.ts';

/** Name of the uint8 input that carries a window's frames, [N, T, H, W, 3]. */
export const FRAMES_INPUT = 'frames';
/** Layout of FRAMES_INPUT (and of image inputs, without T). */
export const UINT8_LAYOUT = 'NTHWC' as const;
/** Layout of an image input's uint8 form `x_u8` (rgb24 rows, no time axis). */
export const IMAGE_UINT8_LAYOUT = 'NHWC' as const;
/** Suffix of the uint8 input that feeds a float NCHW image input `x`: `x_u8`, [N, H, W, 3]. */
export const IMAGE_INPUT_SUFFIX = '_u8';

export interface Uint8EntrySpec {
  /** T of `frames`: the frames of one window (the largest video input's T). */
  frames: number;
  /** The float range a byte maps to before mean/std (manifest `inputRange`). */
  inputRange: readonly [number, number];
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** Image inputs only: pad the normalized image to multiples of this at the right and bottom (see the module comment). */
  padTo?: number;
}

type Dim = OnnxTypes.TensorShapeProto.IDimension;

interface GraphInput {
  info: OnnxTypes.IValueInfoProto;
  name: string;
  elemType: number;
  dims: Dim[];
}

function describeInput(info: OnnxTypes.IValueInfoProto): GraphInput {
  const t = info.type?.tensorType;
  return { info, name: info.name ?? '', elemType: t?.elemType ?? 0, dims: [...(t?.shape?.dim ?? [])] };
}

function dimNumber(d: Dim | undefined): number | undefined {
  if (d?.dimValue === undefined || d.dimValue === null) return undefined;
  return Number(d.dimValue); // a Long when decoded from bytes, a number when built here
}

function sameDim(a: Dim | undefined, b: Dim | undefined): boolean {
  const na = dimNumber(a);
  const nb = dimNumber(b);
  if (na !== undefined || nb !== undefined) return na === nb;
  return (a?.dimParam ?? '') === (b?.dimParam ?? '') && (a?.dimParam ?? '') !== '';
}

function copyDim(d: Dim | undefined, fallback: string): Dim {
  const n = dimNumber(d);
  if (n !== undefined && n > 0) return { dimValue: n };
  return { dimParam: d?.dimParam || fallback };
}

function valueInfo(name: string, elemType: number, dims: Dim[]): OnnxTypes.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims } } } };
}

function fail(why: string): never {
  throw new VidxError('ONNX_PREFIX_INVALID', `cannot build the uint8 entry: ${why}`, {
    hint: 'the float graph must take its images as float32 NCTHW [N, 3, T, H, W] or NCHW [N, 3, H, W]',
  });
}

/** Collects the prefix's nodes and constants, with names that cannot clash with the graph's. */
class Prefix {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];

  constructor(private readonly taken: Set<string>) {}

  private claim(name: string): string {
    if (this.taken.has(name)) fail(`the graph already has a value named "${name}"`);
    this.taken.add(name);
    return name;
  }

  floats(name: string, values: readonly number[]): string {
    const data = Float32Array.from(values);
    this.initializers.push({ name: this.claim(name), dims: [values.length], dataType: ONNX_FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  int64s(name: string, values: readonly number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name: this.claim(name), dims: [values.length], dataType: ONNX_INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  node(opType: string, inputs: string[], output: string, attribute: OnnxTypes.IAttributeProto[] = []): string {
    this.nodes.push({ opType, name: output, input: inputs, output: [this.claim(output)], attribute });
    return output;
  }

  /** uint8 channels-last -> normalized float32, same layout. */
  normalize(source: string, base: string, spec: Uint8EntrySpec): string {
    const [lo, hi] = spec.inputRange;
    const { INT } = onnx.AttributeProto.AttributeType;
    let x = this.node('Cast', [source], `${base}.float`, [{ name: 'to', type: INT, i: ONNX_FLOAT }]);
    const divisor = Math.fround(255 / (hi - lo));
    if (divisor !== 1) x = this.node('Div', [x, this.floats(`${base}.range_divisor`, [divisor])], `${base}.ranged`);
    if (lo !== 0) x = this.node('Add', [x, this.floats(`${base}.range_low`, [lo])], `${base}.shifted`);
    if (spec.mean.some((m) => m !== 0)) x = this.node('Sub', [x, this.floats(`${base}.mean`, spec.mean)], `${base}.centered`);
    if (spec.std.some((s) => s !== 1)) x = this.node('Div', [x, this.floats(`${base}.std`, spec.std)], `${base}.normalized`);
    return x;
  }

  transpose(x: string, perm: number[], output: string): string {
    return this.node('Transpose', [x], output, [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: perm }]);
  }

  /**
   * `nchw` (from the uint8 image `source`, [N, H, W, 3]) padded with zeros at the bottom and
   * right to multiples of `multiple`: pad = (multiple - side mod multiple) mod multiple per side.
   */
  padToMultiple(nchw: string, source: string, multiple: number, output: string): string {
    const shape = this.node('Shape', [source], `${source}.shape`);
    const hw = this.node('Slice', [shape, this.int64s(`${source}.hw_start`, [1]), this.int64s(`${source}.hw_end`, [3])], `${source}.hw`);
    const m = this.int64s(`${source}.pad_multiple`, [multiple]);
    const short = this.node('Sub', [m, this.node('Mod', [hw, m], `${source}.hw_rem`)], `${source}.hw_short`);
    const pad = this.node('Mod', [short, m], `${source}.hw_pad`);
    // Pad's pads: the begins of N, C, H, W (all 0), then the ends of N, C (0) and H, W.
    const pads = this.node('Concat', [this.int64s(`${source}.pads_fixed`, [0, 0, 0, 0, 0, 0]), pad], `${source}.pads`, [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }]);
    // mode constant, constant_value absent: 0.
    return this.node('Pad', [nchw, pads], output);
  }
}

function checkSpec(spec: Uint8EntrySpec): void {
  const [lo, hi] = spec.inputRange;
  if (!(Number.isInteger(spec.frames) && spec.frames > 0)) fail(`frames must be a whole number > 0, got ${spec.frames}`);
  if (!(hi > lo)) fail(`inputRange must be [lo, hi] with hi > lo, got [${lo}, ${hi}]`);
  if (spec.std.some((s) => !(s > 0))) fail('std must be positive');
  if (spec.padTo !== undefined && !(Number.isInteger(spec.padTo) && spec.padTo > 0)) fail(`padTo must be a whole number > 0, got ${spec.padTo}`);
}

/**
 * The uint8 entry of `model` (not modified; the result shares its weights). See the module
 * comment for the interface.
 */
export function uint8Entry(model: OnnxTypes.IModelProto, spec: Uint8EntrySpec): OnnxTypes.IModelProto {
  checkSpec(spec);
  const graph = model.graph ?? fail('the model has no graph');
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = (graph.input ?? []).filter((i) => !initializerNames.has(i.name ?? '')).map(describeInput);
  const isImage = (i: GraphInput, rank: number) => i.elemType === ONNX_FLOAT && i.dims.length === rank && dimNumber(i.dims[1]) === 3;
  const videos = inputs.filter((i) => isImage(i, 5));
  const images = inputs.filter((i) => isImage(i, 4));
  if (videos.length + images.length === 0) fail('no float32 input is shaped [N, 3, T, H, W] or [N, 3, H, W]');
  if (spec.padTo !== undefined && images.length === 0) fail('padTo pads image inputs [N, 3, H, W], and the graph has none');

  const taken = new Set<string>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) taken.add(o);
  for (const i of graph.input ?? []) taken.add(i.name ?? '');
  for (const t of graph.initializer ?? []) taken.add(t.name ?? '');
  const replaced = new Set([...videos, ...images].map((i) => i.name));
  // The float inputs' names become values the prefix produces; they are free to be reused.
  for (const name of replaced) taken.delete(name);
  const prefix = new Prefix(taken);
  const newInputs: OnnxTypes.IValueInfoProto[] = [];

  if (videos.length > 0) {
    const [first] = videos;
    for (const v of videos) {
      const t = dimNumber(v.dims[2]);
      if (t === undefined || t < 1) fail(`video input "${v.name}" has no fixed frame count (T)`);
      if (t > spec.frames) fail(`video input "${v.name}" takes ${t} frames but a window has ${spec.frames}`);
      if (!sameDim(v.dims[3], first!.dims[3]) || !sameDim(v.dims[4], first!.dims[4]) || !sameDim(v.dims[0], first!.dims[0])) {
        fail(`video inputs "${first!.name}" and "${v.name}" differ in batch, height or width; one frames input cannot feed both`);
      }
    }
    newInputs.push(valueInfo(FRAMES_INPUT, ONNX_UINT8, [copyDim(first!.dims[0], 'N'), { dimValue: spec.frames }, copyDim(first!.dims[3], 'H'), copyDim(first!.dims[4], 'W'), { dimValue: 3 }]));
    const normalized = prefix.normalize(FRAMES_INPUT, FRAMES_INPUT, spec);
    const ncthw = prefix.transpose(normalized, [0, 4, 1, 2, 3], `${FRAMES_INPUT}.ncthw`);
    for (const v of videos) {
      const t = dimNumber(v.dims[2])!;
      if (t === spec.frames) prefix.node('Identity', [ncthw], v.name);
      else {
        const indices = prefix.int64s(`${v.name}.frame_indices`, inputFrameIndices(spec.frames, t));
        prefix.node('Gather', [ncthw, indices], v.name, [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 2 }]);
      }
    }
  }
  for (const img of images) {
    const name = `${img.name}${IMAGE_INPUT_SUFFIX}`;
    if (prefix.nodes.some((n) => n.output?.includes(name)) || taken.has(name)) fail(`the graph already has a value named "${name}"`);
    taken.add(name);
    // Padded in the graph: the bytes' H and W are free (any size; the graph's input is the padded one).
    const [h, w] = spec.padTo === undefined ? [copyDim(img.dims[2], 'H'), copyDim(img.dims[3], 'W')] : [{ dimParam: `${name}_height` }, { dimParam: `${name}_width` }];
    newInputs.push(valueInfo(name, ONNX_UINT8, [copyDim(img.dims[0], 'N'), h, w, { dimValue: 3 }]));
    const normalized = prefix.normalize(name, name, spec);
    if (spec.padTo === undefined) prefix.transpose(normalized, [0, 3, 1, 2], img.name);
    else prefix.padToMultiple(prefix.transpose(normalized, [0, 3, 1, 2], `${name}.nchw`), name, spec.padTo, img.name);
  }

  return {
    ...model,
    docString: `${model.docString ?? ''} [uint8 entry: ${UINT8_LAYOUT} bytes in, preprocessing in the graph]`.trim(),
    graph: {
      ...graph,
      node: [...prefix.nodes, ...(graph.node ?? [])],
      initializer: [...(graph.initializer ?? []), ...prefix.initializers],
      input: [...newInputs, ...(graph.input ?? []).filter((i) => !replaced.has(i.name ?? ''))],
    },
  };
}

/** uint8Entry over encoded bytes (for graphs built elsewhere). */
export function uint8EntryBytes(floatOnnx: Uint8Array, spec: Uint8EntrySpec): Uint8Array {
  return onnx.ModelProto.encode(uint8Entry(onnx.ModelProto.decode(floatOnnx), spec)).finish();
}
