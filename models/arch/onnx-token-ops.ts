import { VidxError } from '../../core/errors.ts';
import type { OnnxGraphBuilder } from '../onnx/graph-builder.ts';
import type { StateDict } from '../tensor.ts';
import type { ConvSpec, PatchMergingSpec, TemporalShiftSpec, WindowAttentionSpec } from './network.ts';
import { weight } from './weights.ts';

/** nn.LayerNorm's default epsilon; Swin keeps it. */
const LAYER_NORM_EPS = 1e-5;

/**
 * The ONNX side of the token vocabulary (TokenSink): LayerNormalization, MatMul, Softmax, the
 * erf form of GELU (onnxruntime fuses the pattern into one Gelu kernel), and Reshape, Transpose,
 * Gather, Slice and Concat for windows and shifts. Token tensors are [N, L, C] with a dynamic N.
 * Weights are rearranged at build time where that saves work at run time: Linear weights are
 * stored transposed, the attention scale is folded into the query projection, and each block's
 * relative-position bias is gathered from its table into one constant.
 */
export class OnnxTokenOps {
  private readonly shared = new Map<string, string>();

  constructor(
    private readonly graph: OnnxGraphBuilder,
    private readonly sd: StateDict,
  ) {}

  conv(x: string, spec: ConvSpec): string {
    const w = this.graph.initializer(`${spec.conv}.weight`, [spec.outChannels, spec.inChannels, ...spec.kernel], weight(this.sd, `${spec.conv}.weight`));
    const b = this.graph.initializer(`${spec.conv}.bias`, [spec.outChannels], weight(this.sd, `${spec.conv}.bias`));
    return this.graph.node('Conv', [x, w, b], spec.conv, {
      kernel_shape: { ints: spec.kernel },
      strides: { ints: spec.stride },
    });
  }

  /** flatten(2).transpose(1, 2): [N, C, T, H, W] -> [N, T*H*W, C]. */
  toTokens(x: string, name: string, channels: number): string {
    const flat = this.reshape(x, `${name}.flatten`, [0, channels, -1]);
    return this.graph.node('Transpose', [flat], name, { perm: { ints: [0, 2, 1] } });
  }

  layerNorm(x: string, name: string, channels: number): string {
    const scale = this.graph.initializer(`${name}.weight`, [channels], weight(this.sd, `${name}.weight`));
    const bias = this.graph.initializer(`${name}.bias`, [channels], weight(this.sd, `${name}.bias`));
    return this.graph.node('LayerNormalization', [x, scale, bias], name, { axis: { int: -1 }, epsilon: { float: LAYER_NORM_EPS } });
  }

  linear(x: string, name: string, inFeatures: number, outFeatures: number, bias: boolean): string {
    const w = weight(this.sd, `${name}.weight`);
    const b = bias ? weight(this.sd, `${name}.bias`) : null;
    return this.matmulAdd(x, name, transposed(w, outFeatures, inFeatures), inFeatures, outFeatures, b);
  }

  /** 0.5 x (1 + erf(x / sqrt 2)), nn.GELU's default (approximate='none'). */
  gelu(x: string, name: string): string {
    const scaled = this.graph.node('Div', [x, this.scalar('gelu.sqrt2', Math.SQRT2)], `${name}.div`);
    const erf = this.graph.node('Erf', [scaled], `${name}.erf`);
    const onePlus = this.graph.node('Add', [erf, this.scalar('gelu.one', 1)], `${name}.add`);
    const times = this.graph.node('Mul', [x, onePlus], `${name}.mul`);
    return this.graph.node('Mul', [times, this.scalar('gelu.half', 0.5)], name);
  }

  add(a: string, b: string, name: string): string {
    return this.graph.node('Add', [a, b], name);
  }

  gatherTokens(x: string, name: string, order: Int32Array): string {
    const indices = this.graph.int64Initializer(`${name}.order`, [order.length], Array.from(order));
    return this.graph.node('Gather', [x, indices], name, { axis: { int: 1 } });
  }

  /**
   * TemporalShift (TSM) on [N, frames*P, heads*hc]: per head, channels [0, fold) take the previous
   * frame's values and [fold, 2 fold) the next frame's; the first and last frames keep their own
   * (TPS shifts a clone, not zeros).
   */
  temporalShift(x: string, spec: TemporalShiftSpec): string {
    const { name, frames, fold } = spec;
    const grid = this.reshape(x, `${name}.grid`, [0, frames, -1, spec.heads, spec.headChannels]);
    const fromPrevious = this.slice(grid, `${name}.prev_channels`, 4, 0, fold);
    const fromNext = this.slice(grid, `${name}.next_channels`, 4, fold, 2 * fold);
    const kept = this.slice(grid, `${name}.kept_channels`, 4, 2 * fold, spec.headChannels);
    const previous = this.graph.node(
      'Concat',
      [this.slice(fromPrevious, `${name}.prev_first`, 1, 0, 1), this.slice(fromPrevious, `${name}.prev_body`, 1, 0, frames - 1)],
      `${name}.prev`,
      { axis: { int: 1 } },
    );
    const next = this.graph.node(
      'Concat',
      [this.slice(fromNext, `${name}.next_body`, 1, 1, frames), this.slice(fromNext, `${name}.next_last`, 1, frames - 1, frames)],
      `${name}.next`,
      { axis: { int: 1 } },
    );
    const shifted = this.graph.node('Concat', [previous, next, kept], `${name}.concat`, { axis: { int: 4 } });
    return this.reshape(shifted, name, [0, -1, spec.heads * spec.headChannels]);
  }

  /**
   * Window attention on tokens in window order [N, frames*windows*T, C]:
   *
   *   x -> q, k, v (Linear, split per head; q pre-scaled by head_dim^-0.5)
   *     -> q k^T + bias[frame] (+ mask[window]) -> softmax -> (.) v -> merge heads -> proj
   *
   * computed as [N, frames, windows, heads, T, T] so the per-frame bias and the per-window mask
   * broadcast without copies.
   */
  windowAttention(x: string, spec: WindowAttentionSpec): string {
    const { path, channels: c, heads, frames, windowsPerFrame: nw, windowTokens: t } = spec;
    const headChannels = c / heads;
    const scale = headChannels ** -0.5;
    const qkvWeight = weight(this.sd, `${path}.qkv.weight`);
    const qkvBias = weight(this.sd, `${path}.qkv.bias`);
    const grid = [0, frames, nw, t, heads, headChannels];
    const project = (part: number, label: string, factor: number, perm: number[]): string => {
      const w = new Float32Array(c * c);
      const b = new Float32Array(c);
      for (let o = 0; o < c; o++) {
        b[o] = qkvBias[part * c + o]! * factor;
        for (let i = 0; i < c; i++) w[i * c + o] = qkvWeight[(part * c + o) * c + i]! * factor;
      }
      const y = this.matmulAdd(x, `${path}.${label}`, w, c, c, b);
      return this.graph.node('Transpose', [this.reshape(y, `${path}.${label}.heads`, grid)], `${path}.${label}.split`, { perm: { ints: perm } });
    };
    const q = project(0, 'q', scale, [0, 1, 2, 4, 3, 5]);
    const k = project(1, 'k', 1, [0, 1, 2, 4, 5, 3]);
    const v = project(2, 'v', 1, [0, 1, 2, 4, 3, 5]);

    let scores = this.graph.node('MatMul', [q, k], `${path}.scores`);
    const bias = this.graph.initializer(`${path}.relative_position_bias`, [frames, 1, heads, t, t], this.relativePositionBias(spec));
    scores = this.graph.node('Add', [scores, bias], `${path}.scores_bias`);
    if (spec.mask !== null) {
      const mask = this.graph.initializer(`${path}.mask`, [nw, 1, t, t], spec.mask);
      scores = this.graph.node('Add', [scores, mask], `${path}.scores_masked`);
    }
    const weights = this.graph.node('Softmax', [scores], `${path}.softmax`, { axis: { int: -1 } });
    const heads_ = this.graph.node('MatMul', [weights, v], `${path}.context`);
    const merged = this.graph.node('Transpose', [heads_], `${path}.context.merge`, { perm: { ints: [0, 1, 2, 4, 3, 5] } });
    const tokens = this.reshape(merged, `${path}.context.tokens`, [0, -1, c]);
    return this.linear(tokens, `${path}.proj`, c, c, true);
  }

  /** x0..x3 = the (even, even), (odd, even), (even, odd), (odd, odd) (row, column) neighbours. */
  patchMerging(x: string, spec: PatchMergingSpec): string {
    const { path, frames, height, width, channels: c } = spec;
    const grid = this.reshape(x, `${path}.grid`, [0, frames, height / 2, 2, width / 2, 2, c]);
    // [N, F, H/2, row parity, W/2, column parity, C] -> [..., column parity, row parity, C].
    const neighbours = this.graph.node('Transpose', [grid], `${path}.neighbours`, { perm: { ints: [0, 1, 2, 4, 5, 3, 6] } });
    const merged = this.reshape(neighbours, `${path}.concat`, [0, -1, 4 * c]);
    const normed = this.layerNorm(merged, `${path}.norm`, 4 * c);
    return this.linear(normed, `${path}.reduction`, 4 * c, 2 * c, false);
  }

  classifyTokens(x: string, linear: string, inFeatures: number, classes: number, output: string, features: string): void {
    const pooled = this.graph.node('ReduceMean', [x], features, { axes: { ints: [1] }, keepdims: { int: 0 } });
    const w = this.graph.initializer(`${linear}.weight`, [classes, inFeatures], weight(this.sd, `${linear}.weight`));
    const b = this.graph.initializer(`${linear}.bias`, [classes], weight(this.sd, `${linear}.bias`));
    this.graph.node('Gemm', [pooled, w, b], output, { transB: { int: 1 } });
    this.graph.output(output, ['N', classes]);
    this.graph.output(features, ['N', inFeatures]);
  }

  /** bias[f, 0, h, n1, n2] = table[index[f, n1, n2], h], from the checkpoint's own index buffer. */
  private relativePositionBias(spec: WindowAttentionSpec): Float32Array {
    const { path, heads, frames, windowTokens: t, tableRows } = spec;
    const table = weight(this.sd, `${path}.relative_position_bias_table`);
    const indexName = `${path}.${spec.biasIndex}`;
    const index = integerData(this.sd, indexName);
    const out = new Float32Array(frames * heads * t * t);
    for (let f = 0; f < frames; f++) {
      for (let n = 0; n < t * t; n++) {
        const row = index[f * t * t + n]!;
        if (!(row >= 0 && row < tableRows)) {
          throw new VidxError('MODEL_STATE_MISMATCH', `${indexName} holds ${row}, outside the bias table's ${tableRows} rows`, {
            hint: 'the checkpoint\'s relative-position index does not belong to this architecture',
          });
        }
        for (let h = 0; h < heads; h++) out[(f * heads + h) * t * t + n] = table[row * heads + h]!;
      }
    }
    return out;
  }

  private matmulAdd(x: string, name: string, weightInOut: Float32Array, inFeatures: number, outFeatures: number, bias: Float32Array | null): string {
    const w = this.graph.initializer(`${name}.weight`, [inFeatures, outFeatures], weightInOut);
    if (bias === null) return this.graph.node('MatMul', [x, w], name);
    const product = this.graph.node('MatMul', [x, w], `${name}.matmul`);
    const b = this.graph.initializer(`${name}.bias`, [outFeatures], bias);
    return this.graph.node('Add', [product, b], name);
  }

  private reshape(x: string, name: string, shape: readonly number[]): string {
    const target = this.graph.int64Initializer(`${name}.shape`, [shape.length], shape);
    return this.graph.node('Reshape', [x, target], name);
  }

  private slice(x: string, name: string, axis: number, start: number, end: number): string {
    const starts = this.graph.int64Initializer(`${name}.starts`, [1], [start]);
    const ends = this.graph.int64Initializer(`${name}.ends`, [1], [end]);
    const axes = this.graph.int64Initializer(`${name}.axes`, [1], [axis]);
    return this.graph.node('Slice', [x, starts, ends, axes], name);
  }

  /** A float scalar shared by every node that needs it. */
  private scalar(name: string, value: number): string {
    let existing = this.shared.get(name);
    if (existing === undefined) {
      existing = this.graph.initializer(name, [], Float32Array.of(value));
      this.shared.set(name, existing);
    }
    return existing;
  }
}

/** W [out, in] (PyTorch's Linear layout) -> W^T [in, out] for MatMul. */
function transposed(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

/** An integer buffer as numbers (int64 as PyTorch stores indices; int32 tolerated). */
function integerData(sd: StateDict, name: string): ArrayLike<number> {
  const tensor = sd.get(name);
  if (tensor === undefined) {
    throw new VidxError('MODEL_STATE_MISMATCH', `state dict has no "${name}"`, { hint: 'check the state dict against expectedKeys() before building' });
  }
  if (tensor.dtype === 'int64') return Array.from(tensor.data as BigInt64Array, (v) => Number(v));
  if (tensor.dtype === 'int32') return tensor.data as Int32Array;
  throw new VidxError('MODEL_STATE_MISMATCH', `state-dict tensor "${name}" is ${tensor.dtype}, expected an integer index`, {
    hint: 'check that the checkpoint belongs to this architecture',
  });
}
