import type { OnnxGraphBuilder } from '../onnx/graph-builder.ts';
import type { StateDict } from '../tensor.ts';
import { foldBatchNorm } from './fold-batchnorm.ts';
import { roiAlignTorchvision } from '../onnx/roi-align.ts';
import type { ConvBnSpec, ConvSpec, NetworkSink, Padding, PatchMergingSpec, RoiHeadSpec, TemporalShiftSpec, Triple, WindowAttentionSpec } from './network.ts';
import { OnnxTokenOps } from './onnx-token-ops.ts';
import { weight } from './weights.ts';

/** Name of the graph output, [N, classes]. */
export const LOGITS = 'logits';
/** Name of the action detector's graph input, [K, 5] (batch index, x1, y1, x2, y2 in input pixels). */
export const BOXES = 'boxes';
/** Name of the action detector's graph output, [K, classes] sigmoid probabilities. */
export const PROBS = 'probs';
/** I3D's second output, [N, classes, T']: the logits per output time step (their mean is LOGITS). */
export const LOGITS_PER_TIME = 'logits_per_time';
/**
 * Every action model's second output: the pooled features its classifier reads, [N, C] for a
 * clip model (the vector before the last Linear) and [K, C] per box for the AVA model. Kept in the
 * vector index for search by example and for actions a user teaches.
 */
export const FEATURES = 'features';

/**
 * Emits a walk as ONNX nodes. Every Conv+BN becomes one Conv with a bias (BN folded), so the
 * graph holds only ops onnxruntime fuses and runs fast: Conv, Relu, MaxPool, Add, Concat,
 * AveragePool, GlobalAveragePool, Flatten, Gemm. Values are named after their modules.
 * The state dict must already have been checked against the architecture's key layout.
 */
export class OnnxSink implements NetworkSink<string> {
  private readonly tokens: OnnxTokenOps;

  constructor(
    private readonly graph: OnnxGraphBuilder,
    private readonly sd: StateDict,
  ) {
    this.tokens = new OnnxTokenOps(graph, sd);
  }

  input(name: string, frames: number, size: number | null): string {
    return this.graph.input(name, ['N', 3, frames, size ?? 'H', size ?? 'W']);
  }

  convBn(x: string, spec: ConvBnSpec, relu: boolean): string {
    const groups = spec.groups ?? 1;
    const folded = foldBatchNorm(
      weight(this.sd, `${spec.conv}.weight`),
      {
        gamma: weight(this.sd, `${spec.norm}.weight`),
        beta: weight(this.sd, `${spec.norm}.bias`),
        mean: weight(this.sd, `${spec.norm}.running_mean`),
        variance: weight(this.sd, `${spec.norm}.running_var`),
      },
      spec.eps,
    );
    const w = this.graph.initializer(`${spec.conv}.weight`, [spec.outChannels, spec.inChannels / groups, ...spec.kernel], folded.weight);
    const b = this.graph.initializer(`${spec.conv}.bias`, [spec.outChannels], folded.bias);
    const y = this.graph.node('Conv', [x, w, b], spec.conv, {
      kernel_shape: { ints: spec.kernel },
      strides: { ints: spec.stride },
      pads: { ints: pads(spec.padding) },
      ...(spec.dilation ? { dilations: { ints: spec.dilation } } : {}),
      ...(groups === 1 ? {} : { group: { int: groups } }),
    });
    return relu ? this.graph.node('Relu', [y], `${spec.conv}.relu`) : y;
  }

  maxPool(x: string, name: string, kernel: Triple, stride: Triple, padding: Padding): string {
    return this.graph.node('MaxPool', [x], name, {
      kernel_shape: { ints: kernel },
      strides: { ints: stride },
      pads: { ints: pads(padding) },
    });
  }

  avgPool(x: string, name: string, kernel: Triple): string {
    return this.graph.node('AveragePool', [x], name, {
      kernel_shape: { ints: kernel },
      strides: { ints: [1, 1, 1] },
    });
  }

  addRelu(a: string, b: string, name: string): string {
    return this.graph.node('Relu', [this.graph.node('Add', [a, b], `${name}.add`)], name);
  }

  concat(xs: readonly string[], name: string): string {
    return this.graph.node('Concat', xs, name, { axis: { int: 1 } });
  }

  /**
   * PyTorch applies the Linear at every pooled position and then averages. A Linear is affine,
   * so averaging first and projecting once is the same function (up to float rounding) and
   * lets the projection be one Gemm on [N, C].
   */
  classify(x: string, linear: string, inFeatures: number, classes: number): void {
    const averaged = this.graph.node('GlobalAveragePool', [x], `${linear}.average`);
    const flat = this.graph.node('Flatten', [averaged], FEATURES, { axis: { int: 1 } });
    const w = this.graph.initializer(`${linear}.weight`, [classes, inFeatures], weight(this.sd, `${linear}.weight`));
    const b = this.graph.initializer(`${linear}.bias`, [classes], weight(this.sd, `${linear}.bias`));
    this.graph.node('Gemm', [flat, w, b], LOGITS, { transB: { int: 1 } });
    this.graph.output(LOGITS, ['N', classes]);
    this.graph.output(FEATURES, ['N', inFeatures]);
  }

  /**
   * ResNetRoIHead: squeeze T (1 after the pathway pools), RoIAlign every box of the `boxes`
   * input, MaxPool2d over the RoI, Linear, Sigmoid. Dropout is the identity in eval mode.
   */
  roiHead(x: string, spec: RoiHeadSpec): void {
    const g = this.graph;
    const boxes = g.input(BOXES, ['K', 5]);
    const features = g.node('Squeeze', [x, g.int64Initializer(`${spec.linear}.time_axis`, [1], [2])], `${spec.linear}.features`);
    const [index, rois] = g.nodeMulti('Split', [boxes, g.int64Initializer(`${BOXES}.split`, [2], [1, 4])], [`${BOXES}.index`, `${BOXES}.rois`], { axis: { int: 1 } });
    const flatIndex = g.node('Squeeze', [index!, g.int64Initializer(`${BOXES}.index_axis`, [1], [1])], `${BOXES}.index_flat`);
    const batchIndices = g.node('Cast', [flatIndex], `${BOXES}.batch_indices`, { to: { int: 7 } });
    const pooled = roiAlignTorchvision(g, features, rois!, batchIndices, { outputSize: spec.resolution, spatialScale: spec.spatialScale, samplingRatio: spec.samplingRatio }, `${spec.linear}.roi`);
    const maxed = g.node('MaxPool', [pooled], `${spec.linear}.pool_spatial`, { kernel_shape: { ints: [spec.resolution, spec.resolution] }, strides: { ints: [1, 1] } });
    const flat = g.node('Flatten', [maxed], FEATURES, { axis: { int: 1 } });
    const w = g.initializer(`${spec.linear}.weight`, [spec.classes, spec.inFeatures], weight(this.sd, `${spec.linear}.weight`));
    const b = g.initializer(`${spec.linear}.bias`, [spec.classes], weight(this.sd, `${spec.linear}.bias`));
    const logits = g.node('Gemm', [flat, w, b], `${spec.linear}.logits`, { transB: { int: 1 } });
    g.node('Sigmoid', [logits], PROBS);
    g.output(PROBS, ['K', spec.classes]);
    g.output(FEATURES, ['K', spec.inFeatures]);
  }

  /**
   * Conv 1x1x1 with bias -> [N, classes, T, 1, 1]; ReduceMean over the two unit axes drops them
   * exactly (the mean of one value), giving LOGITS_PER_TIME; ReduceMean over time gives LOGITS.
   */
  classifyPerTime(x: string, conv: string, inChannels: number, classes: number): void {
    const w = this.graph.initializer(`${conv}.weight`, [classes, inChannels, 1, 1, 1], weight(this.sd, `${conv}.weight`));
    const b = this.graph.initializer(`${conv}.bias`, [classes], weight(this.sd, `${conv}.bias`));
    const y = this.graph.node('Conv', [x, w, b], conv, { kernel_shape: { ints: [1, 1, 1] } });
    const perTime = this.graph.node('ReduceMean', [y], LOGITS_PER_TIME, { axes: { ints: [3, 4] }, keepdims: { int: 0 } });
    this.graph.node('ReduceMean', [perTime], LOGITS, { axes: { ints: [2] }, keepdims: { int: 0 } });
    this.graph.output(LOGITS, ['N', classes]);
    this.graph.output(LOGITS_PER_TIME, ['N', classes, 'T']);
    // The head is linear, so its input averaged over time is the vector the clip logits come from.
    this.graph.node('ReduceMean', [x], FEATURES, { axes: { ints: [2, 3, 4] }, keepdims: { int: 0 } });
    this.graph.output(FEATURES, ['N', inChannels]);
  }

  // Token vocabulary (transformers): see OnnxTokenOps.

  conv(x: string, spec: ConvSpec): string {
    return this.tokens.conv(x, spec);
  }

  toTokens(x: string, name: string, channels: number): string {
    return this.tokens.toTokens(x, name, channels);
  }

  layerNorm(x: string, name: string, channels: number): string {
    return this.tokens.layerNorm(x, name, channels);
  }

  linear(x: string, name: string, inFeatures: number, outFeatures: number, bias: boolean): string {
    return this.tokens.linear(x, name, inFeatures, outFeatures, bias);
  }

  gelu(x: string, name: string): string {
    return this.tokens.gelu(x, name);
  }

  add(a: string, b: string, name: string): string {
    return this.tokens.add(a, b, name);
  }

  gatherTokens(x: string, name: string, order: Int32Array): string {
    return this.tokens.gatherTokens(x, name, order);
  }

  temporalShift(x: string, spec: TemporalShiftSpec): string {
    return this.tokens.temporalShift(x, spec);
  }

  windowAttention(x: string, spec: WindowAttentionSpec): string {
    return this.tokens.windowAttention(x, spec);
  }

  patchMerging(x: string, spec: PatchMergingSpec): string {
    return this.tokens.patchMerging(x, spec);
  }

  classifyTokens(x: string, linear: string, inFeatures: number, classes: number): void {
    this.tokens.classifyTokens(x, linear, inFeatures, classes, LOGITS, FEATURES);
  }
}

/** ONNX pads: all begins, then all ends. */
function pads(padding: Padding): number[] {
  return 'begin' in padding ? [...padding.begin, ...padding.end] : [...padding, ...padding];
}
