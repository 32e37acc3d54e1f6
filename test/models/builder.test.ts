import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { isVidxError } from '../../core/errors.ts';
import { OPSET, buildOnnx } from '../../models/arch/index.ts';
import { BATCH_NORM_EPS, foldBatchNorm } from '../../models/arch/fold-batchnorm.ts';
import { float32Data } from '../../models/arch/weights.ts';
import { OnnxGraphBuilder } from '../../models/onnx/graph-builder.ts';
import { ONNX_FLOAT, onnx } from '../../models/onnx/proto.ts';
import type { OnnxTypes } from '../../models/onnx/proto.ts';
import { synthesizeStateDict } from '../../models/synthetic.ts';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isVidxError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

describe('OnnxGraphBuilder', () => {
  /** y = relu(conv1x1(x) + b): 2 input channels -> 1 output channel, over NCTHW. */
  function tinyConvModel(): Uint8Array {
    const g = new OnnxGraphBuilder();
    const x = g.input('x', ['N', 2, 1, 1, 2]);
    const w = g.initializer('w', [1, 2, 1, 1, 1], new Float32Array([2, -1]));
    const b = g.initializer('b', [1], new Float32Array([0.5]));
    const conv = g.node('Conv', [x, w, b], 'conv', { kernel_shape: { ints: [1, 1, 1] } });
    g.node('Relu', [conv], 'y');
    g.output('y', ['N', 1, 1, 1, 2]);
    return g.encode({ opset: OPSET, producer: 'test' });
  }

  it('encodes a model onnxruntime runs, with a dynamic batch', async () => {
    const session = await ort.InferenceSession.create(tinyConvModel());
    // Batch of 2, channels [c0, c1] at two positions each: y = relu(2*c0 - c1 + 0.5).
    const x = new ort.Tensor('float32', new Float32Array([1, 3, 0, 1, /* sample 2 */ -1, 0, 2, 0]), [2, 2, 1, 1, 2]);
    const { y } = await session.run({ x });
    await session.release();
    expect(y?.dims).toEqual([2, 1, 1, 1, 2]);
    expect([...(y?.data as Float32Array)]).toEqual([2.5, 5.5, 0, 0.5]);
  });

  it('refuses a name used twice and a node reading a value not yet defined', () => {
    const g = new OnnxGraphBuilder();
    g.input('x', ['N', 1]);
    expect(codeOf(() => g.initializer('x', [1], new Float32Array(1)))).toBe('ONNX_GRAPH_INVALID');
    expect(codeOf(() => g.node('Relu', ['later'], 'y'))).toBe('ONNX_GRAPH_INVALID');
    expect(codeOf(() => g.output('nothing', ['N']))).toBe('ONNX_GRAPH_INVALID');
  });
});

describe('foldBatchNorm', () => {
  it('makes conv-with-bias equal to conv followed by eval-mode BatchNorm', () => {
    // Two output channels, three weights each; x is one receptive field.
    const convWeight = new Float32Array([0.5, -1, 2, 1.5, 0.25, -0.75]);
    const bn = {
      gamma: new Float32Array([1.2, 0.8]),
      beta: new Float32Array([0.1, -0.3]),
      mean: new Float32Array([0.05, -0.2]),
      variance: new Float32Array([1.3, 0.6]),
    };
    const x = [0.3, -0.7, 1.1];
    const folded = foldBatchNorm(convWeight, bn);
    for (let c = 0; c < 2; c++) {
      const conv = x.reduce((sum, xi, i) => sum + xi * convWeight[c * 3 + i]!, 0);
      const viaBn = ((conv - bn.mean[c]!) / Math.sqrt(bn.variance[c]! + BATCH_NORM_EPS)) * bn.gamma[c]! + bn.beta[c]!;
      const viaFold = x.reduce((sum, xi, i) => sum + xi * folded.weight[c * 3 + i]!, folded.bias[c]!);
      expect(viaFold).toBeCloseTo(viaBn, 6);
    }
  });
});

describe('float32Data', () => {
  it('decodes float16 bits (normal, negative, subnormal, infinite)', () => {
    const bits = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00]);
    const values = float32Data('t', { dtype: 'float16', shape: [5], data: bits });
    expect([...values]).toEqual([1, -2, Math.fround(0.333251953125), Math.fround(2 ** -24), Infinity]);
  });
});

describe('the built i3d_r50 graph', () => {
  const model = onnx.ModelProto.decode(buildOnnx('i3d_r50', synthesizeStateDict('i3d_r50')));
  // Decoded messages are class instances: repeated fields are arrays, never null.
  const graph = model.graph as OnnxTypes.GraphProto;
  const dims = (v: OnnxTypes.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));

  it('is opset 17 with a dynamic batch on its input, logits and pooled-features outputs', () => {
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(graph.input.map((v) => [v.name, dims(v)])).toEqual([['video', ['N', 3, 8, 224, 224]]]);
    expect(graph.output.map((v) => [v.name, dims(v)])).toEqual([['logits', ['N', 400]], ['features', ['N', 2048]]]);
  });

  it('has every BatchNorm folded away and float32 raw-data weights only', () => {
    const ops = new Set(graph.node.map((n) => n.opType));
    expect([...ops].sort()).toEqual(['Add', 'AveragePool', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'MaxPool', 'Relu']);
    expect(graph.node.filter((n) => n.opType === 'Conv').every((n) => n.input?.length === 3)).toBe(true);
    expect(graph.initializer.every((t) => t.dataType === ONNX_FLOAT && t.rawData!.length > 0)).toBe(true);
  });
});
