/**
 * The uint8 entry's prefix, on small graphs whose outputs are their inputs: what the prefix
 * hands the network must equal, bit for bit, what the float path packs in JavaScript
 * (normalizationTable + NCTHW + PackPathway's frame choice), for any value range, any input
 * shapes (fixed or dynamic H/W), with non-image inputs passed through.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { normalizationTable } from '../../core/video/normalize.ts';
import { inputFrameIndices } from '../../core/video/windows.ts';
import { float16Bits, toFloat16 } from '../../models/onnx/float16.ts';
import { OnnxGraphBuilder, type Dim } from '../../models/onnx/graph-builder.ts';
import { ONNX_FLOAT16, ONNX_UINT8, onnx, type OnnxTypes } from '../../models/onnx/proto.ts';
import { FRAMES_INPUT, uint8Entry, uint8EntryBytes, type Uint8EntrySpec } from '../../models/onnx/uint8-entry.ts';
import { float16BitsToNumber } from '../../models/torch/float16.ts';

/** A graph whose outputs `<input>_out` are its inputs (Identity), so the prefix's result is visible. */
function echoGraph(inputs: Array<[string, Dim[]]>): OnnxTypes.IModelProto {
  const g = new OnnxGraphBuilder();
  for (const [name, shape] of inputs) {
    g.input(name, shape);
    g.node('Identity', [name], `${name}_out`);
    g.output(`${name}_out`, shape);
  }
  return g.toModel({ opset: 17, producer: 'test' });
}

async function run(model: OnnxTypes.IModelProto, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (Math.imul(i + seed, 2654435761) >>> 24) & 0xff;
  return out;
}

/** The float path in JavaScript: NTHWC bytes -> normalized NCTHW float32 of the chosen frames. */
function packed(frames: Uint8Array, [N, T, H, W]: number[], take: number[], spec: Uint8EntrySpec): Float32Array {
  const lut = normalizationTable(spec);
  const t = take.length;
  const out = new Float32Array(N! * 3 * t * H! * W!);
  for (let n = 0; n < N!; n++)
    for (let c = 0; c < 3; c++)
      for (let k = 0; k < t; k++)
        for (let p = 0; p < H! * W!; p++) {
          const v = frames[((n * T! + take[k]!) * H! * W! + p) * 3 + c]!;
          out[((n * 3 + c) * t + k) * H! * W! + p] = lut[c * 256 + v]!;
        }
  return out;
}

const PYTORCHVIDEO: Uint8EntrySpec = { frames: 8, inputRange: [0, 1], mean: [0.45, 0.45, 0.45], std: [0.225, 0.225, 0.225] };

describe('uint8Entry: frames as bytes in, the float inputs computed in the graph', () => {
  it('SlowFast-style: one frames input feeds fast (all T) and slow (PackPathway Gather), equal to the JS packing bit for bit', async () => {
    const model = uint8Entry(
      echoGraph([
        ['slow', ['N', 3, 2, 6, 5]],
        ['fast', ['N', 3, 8, 6, 5]],
      ]),
      PYTORCHVIDEO,
    );
    const inputs = model.graph!.input!;
    expect(inputs.map((i) => i.name)).toEqual([FRAMES_INPUT]);
    expect(inputs[0]!.type!.tensorType!.elemType).toBe(ONNX_UINT8);
    const shape = [2, 8, 6, 5];
    const frames = bytes(2 * 8 * 6 * 5 * 3, 1);
    const out = await run(model, { [FRAMES_INPUT]: new ort.Tensor('uint8', frames, [...shape, 3]) });
    expect(out.fast_out!.dims).toEqual([2, 3, 8, 6, 5]);
    expect(out.slow_out!.dims).toEqual([2, 3, 2, 6, 5]);
    expect(inputFrameIndices(8, 2)).toEqual([0, 7]);
    expect(Array.from(out.fast_out!.data as Float32Array)).toEqual(Array.from(packed(frames, shape, [0, 1, 2, 3, 4, 5, 6, 7], PYTORCHVIDEO)));
    expect(Array.from(out.slow_out!.data as Float32Array)).toEqual(Array.from(packed(frames, shape, [0, 7], PYTORCHVIDEO)));
  });

  it.each<[string, Uint8EntrySpec]>([
    ['I3D paper [-1, 1]', { frames: 4, inputRange: [-1, 1], mean: [0, 0, 0], std: [1, 1, 1] }],
    ['MARS [0, 255], mean only', { frames: 4, inputRange: [0, 255], mean: [114.7748, 107.7354, 99.475], std: [1, 1, 1] }],
    ['Swin [0, 255], ImageNet mean/std', { frames: 4, inputRange: [0, 255], mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] }],
    ['per-channel [0, 1]', { frames: 4, inputRange: [0, 1], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }],
  ])('value range %s: equal to normalizationTable', async (_name, spec) => {
    const model = uint8Entry(echoGraph([['video', ['N', 3, 4, 3, 4]]]), spec);
    const frames = bytes(4 * 3 * 4 * 3, 7);
    frames.set([0, 255, 128], 0);
    const out = await run(model, { frames: new ort.Tensor('uint8', frames, [1, 4, 3, 4, 3]) });
    expect(Array.from(out.video_out!.data as Float32Array)).toEqual(Array.from(packed(frames, [1, 4, 3, 4], [0, 1, 2, 3], spec)));
  });

  it('dynamic H/W, a 2-D image input and a pass-through boxes input (detection-style)', async () => {
    const model = uint8Entry(
      echoGraph([
        ['slow', [1, 3, 2, 'H', 'W']],
        ['fast', [1, 3, 8, 'H', 'W']],
        ['boxes', ['K', 5]],
        ['image', [1, 3, 'IH', 'IW']],
      ]),
      PYTORCHVIDEO,
    );
    const names = model.graph!.input!.map((i) => i.name);
    expect(names).toEqual(['frames', 'image_u8', 'boxes']);
    const frames = bytes(8 * 4 * 7 * 3, 3);
    const image = bytes(5 * 6 * 3, 4);
    const boxes = Float32Array.from([0, 1, 2, 3, 4, 0, 5, 6, 7, 8]);
    const out = await run(model, {
      frames: new ort.Tensor('uint8', frames, [1, 8, 4, 7, 3]),
      image_u8: new ort.Tensor('uint8', image, [1, 5, 6, 3]),
      boxes: new ort.Tensor('float32', boxes, [2, 5]),
    });
    expect(out.fast_out!.dims).toEqual([1, 3, 8, 4, 7]);
    expect(Array.from(out.slow_out!.data as Float32Array)).toEqual(Array.from(packed(frames, [1, 8, 4, 7], [0, 7], PYTORCHVIDEO)));
    expect(out.image_out!.dims).toEqual([1, 3, 5, 6]);
    expect(Array.from(out.image_out!.data as Float32Array)).toEqual(Array.from(packed(image, [1, 1, 5, 6], [0], PYTORCHVIDEO)));
    expect(Array.from(out.boxes_out!.data as Float32Array)).toEqual(Array.from(boxes));
  });

  it('padTo: an image of any size, normalized then padded with zeros at the right and bottom to multiples of padTo (torchvision size_divisible)', async () => {
    const spec = { ...PYTORCHVIDEO, padTo: 4 };
    const model = uint8Entry(echoGraph([['image', [1, 3, 'H', 'W']]]), spec);
    const input = model.graph!.input!.find((i) => i.name === 'image_u8')!;
    expect(input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual([1, 'image_u8_height', 'image_u8_width', 3]);
    const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { intraOpNumThreads: 1 });
    try {
      // 5 x 6 pads to 8 x 8; 4 x 8 is already a multiple (no padding); 1 x 1 pads to 4 x 4.
      for (const [h, w, ph, pw] of [[5, 6, 8, 8], [4, 8, 4, 8], [1, 1, 4, 4]] as const) {
        const image = bytes(h * w * 3, h + w);
        const out = (await session.run({ image_u8: new ort.Tensor('uint8', image, [1, h, w, 3]) })).image_out!;
        expect(out.dims).toEqual([1, 3, ph, pw]);
        const unpadded = packed(image, [1, 1, h, w], [0], spec);
        const want = new Float32Array(3 * ph * pw);
        for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) want.set(unpadded.subarray((c * h + y) * w, (c * h + y + 1) * w), (c * ph + y) * pw);
        expect(Array.from(out.data as Float32Array)).toEqual(Array.from(want));
      }
    } finally {
      await session.release();
    }
  });

  it('works on encoded bytes (graphs built elsewhere) and leaves the float model as it was', async () => {
    const float = echoGraph([['video', ['N', 3, 4, 2, 2]]]);
    const before = onnx.ModelProto.encode(float).finish();
    const model = onnx.ModelProto.decode(uint8EntryBytes(before, { ...PYTORCHVIDEO, frames: 4 }));
    expect(Buffer.from(onnx.ModelProto.encode(float).finish()).equals(Buffer.from(before))).toBe(true);
    const frames = bytes(4 * 2 * 2 * 3, 9);
    const out = await run(model, { frames: new ort.Tensor('uint8', frames, [1, 4, 2, 2, 3]) });
    expect(Array.from(out.video_out!.data as Float32Array)).toEqual(Array.from(packed(frames, [1, 4, 2, 2], [0, 1, 2, 3], PYTORCHVIDEO)));
  });

  it('refuses a graph with no image input, an input longer than the window, and a bad spec, with ONNX_PREFIX_INVALID', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isVidxError(e, 'ONNX_PREFIX_INVALID') ? (e as Error).message : `other: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(code(() => uint8Entry(echoGraph([['boxes', ['K', 5]]]), PYTORCHVIDEO))).toMatch(/no float32 input is shaped/);
    expect(code(() => uint8Entry(echoGraph([['video', ['N', 3, 16, 4, 4]]]), PYTORCHVIDEO))).toMatch(/takes 16 frames but a window has 8/);
    expect(code(() => uint8Entry(echoGraph([['video', ['N', 3, 8, 4, 4]]]), { ...PYTORCHVIDEO, inputRange: [1, 1] }))).toMatch(/hi > lo/);
    expect(code(() => uint8Entry(echoGraph([['video', ['N', 3, 8, 4, 4]]]), { ...PYTORCHVIDEO, padTo: 32 }))).toMatch(/padTo pads image inputs/);
    expect(code(() => uint8Entry(echoGraph([['image', [1, 3, 'H', 'W']]]), { ...PYTORCHVIDEO, padTo: 0 }))).toMatch(/padTo must be a whole number/);
    const clash = echoGraph([['video', ['N', 3, 8, 4, 4]]]);
    clash.graph!.node![0]!.output = ['frames.float'];
    clash.graph!.output![0]!.name = 'frames.float';
    expect(code(() => uint8Entry(clash, PYTORCHVIDEO))).toMatch(/already has a value named "frames.float"/);
  });
});

describe('toFloat16: float16 weights and compute, float32 in and out', () => {
  it('rounds to the nearest float16, ties to even, like numpy astype(float16)', () => {
    expect(float16Bits(1)).toBe(0x3c00);
    expect(float16Bits(-2)).toBe(0xc000);
    expect(float16Bits(65504)).toBe(0x7bff);
    expect(float16Bits(1e6)).toBe(0x7c00);
    expect(float16Bits(2 ** -24)).toBe(0x0001);
    expect(float16Bits(2 ** -26)).toBe(0);
    expect(float16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(float16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    for (const v of [0.1, -3.14159, 0.000123, 1234.5]) expect(Math.abs(float16BitsToNumber(float16Bits(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11);
  });

  it('stores float weights as float16, casts at the edges, and computes the same function to float16 precision', async () => {
    const g = new OnnxGraphBuilder();
    g.input('x', ['N', 4]);
    const w = g.initializer('w', [4, 3], Float32Array.from([0.5, -1, 2, 0.25, 0.125, -0.75, 1.5, 1, -0.5, 0.3, 0.2, 0.1]));
    const b = g.initializer('b', [3], Float32Array.from([0.1, -0.2, 0.3]));
    g.node('Gemm', ['x', w, b], 'logits');
    g.output('logits', ['N', 3]);
    const float = g.toModel({ opset: 17, producer: 'test' });
    const half = toFloat16(float);
    expect(half.graph!.initializer!.every((t) => t.dataType === ONNX_FLOAT16)).toBe(true);
    expect(half.graph!.input!.map((i) => i.type!.tensorType!.elemType)).toEqual([1]);
    expect(half.graph!.output!.map((i) => i.type!.tensorType!.elemType)).toEqual([1]);
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, -1, 0.5, 0, 2]), [2, 4]);
    const a = (await run(float, { x })).logits!;
    const h = (await run(half, { x })).logits!;
    expect(h.type).toBe('float32');
    const fa = a.data as Float32Array;
    const fh = h.data as Float32Array;
    for (let i = 0; i < fa.length; i++) expect(Math.abs(fh[i]! - fa[i]!)).toBeLessThan(0.02);
  });
});
