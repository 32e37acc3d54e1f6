import type { NetworkSink, Triple } from './network.ts';
import { samePadding } from './network.ts';

/** Blocks per stage of a ResNet-50. */
export const R50_STAGE_DEPTHS = [3, 4, 6, 3] as const;

export interface StemSpec {
  /** Module path of the stem, e.g. "blocks.0" or "blocks.0.multipathway_blocks.1". */
  path: string;
  inChannels: number;
  outChannels: number;
  convKernel: Triple;
}

/**
 * create_res_basic_stem: Conv3d (stride 1x2x2, same padding) -> BN -> ReLU ->
 * MaxPool3d 1x3x3 stride 1x2x2 padding 0x1x1.
 */
export function resBasicStem<V>(net: NetworkSink<V>, x: V, spec: StemSpec): V {
  const y = net.convBn(
    x,
    {
      conv: `${spec.path}.conv`,
      norm: `${spec.path}.norm`,
      inChannels: spec.inChannels,
      outChannels: spec.outChannels,
      kernel: spec.convKernel,
      stride: [1, 2, 2],
      padding: samePadding(spec.convKernel),
    },
    true,
  );
  const poolKernel: Triple = [1, 3, 3];
  return net.maxPool(y, `${spec.path}.pool`, poolKernel, [1, 2, 2], samePadding(poolKernel));
}

export interface StageSpec {
  /** Module path of the ResStage, e.g. "blocks.1" or "blocks.1.multipathway_blocks.0". */
  path: string;
  depth: number;
  dimIn: number;
  dimInner: number;
  dimOut: number;
  /** conv_a kernels, repeated cyclically over the stage's blocks (create_res_stage). */
  convAKernels: readonly Triple[];
  /** Spatial stride of the stage's first block (on conv_b and the shortcut). */
  spatialStride: number;
  /** Spatial dilation of every conv_b (padded by the dilation, so the size is kept); default 1. */
  spatialDilation?: number;
}

/**
 * create_res_stage with create_bottleneck_block: every conv is same-padded; the first block
 * carries the stride (on conv_b, temporal stride 1 in these models) and a 1x1x1 projection
 * shortcut when the shape changes.
 */
export function resStage<V>(net: NetworkSink<V>, x: V, spec: StageSpec): V {
  let y = x;
  for (let i = 0; i < spec.depth; i++) {
    const convAKernel = spec.convAKernels[i % spec.convAKernels.length]!;
    y = resBlock(net, y, {
      path: `${spec.path}.res_blocks.${i}`,
      dimIn: i === 0 ? spec.dimIn : spec.dimOut,
      dimInner: spec.dimInner,
      dimOut: spec.dimOut,
      convAKernel,
      spatialStride: i === 0 ? spec.spatialStride : 1,
      spatialDilation: spec.spatialDilation ?? 1,
    });
  }
  return y;
}

interface ResBlockSpec {
  path: string;
  dimIn: number;
  dimInner: number;
  dimOut: number;
  convAKernel: Triple;
  spatialStride: number;
  spatialDilation: number;
}

function resBlock<V>(net: NetworkSink<V>, x: V, spec: ResBlockSpec): V {
  const stride: Triple = [1, spec.spatialStride, spec.spatialStride];
  const needsProjection = spec.dimIn !== spec.dimOut || spec.spatialStride !== 1;
  // Registration order (and so state-dict order): branch1_conv, branch1_norm, branch2.
  const shortcut = needsProjection
    ? net.convBn(
        x,
        {
          conv: `${spec.path}.branch1_conv`,
          norm: `${spec.path}.branch1_norm`,
          inChannels: spec.dimIn,
          outChannels: spec.dimOut,
          kernel: [1, 1, 1],
          stride,
          padding: [0, 0, 0],
        },
        false,
      )
    : x;
  const b = `${spec.path}.branch2`;
  const a = net.convBn(
    x,
    {
      conv: `${b}.conv_a`,
      norm: `${b}.norm_a`,
      inChannels: spec.dimIn,
      outChannels: spec.dimInner,
      kernel: spec.convAKernel,
      stride: [1, 1, 1],
      padding: samePadding(spec.convAKernel),
    },
    true,
  );
  const convBKernel: Triple = [1, 3, 3];
  const d = spec.spatialDilation;
  const bOut = net.convBn(
    a,
    {
      conv: `${b}.conv_b`,
      norm: `${b}.norm_b`,
      inChannels: spec.dimInner,
      outChannels: spec.dimInner,
      kernel: convBKernel,
      stride,
      // create_slowfast pads a dilated conv_b by its dilation: same size out.
      padding: d === 1 ? samePadding(convBKernel) : [0, d, d],
      ...(d === 1 ? {} : { dilation: [1, d, d] as Triple }),
    },
    true,
  );
  const c = net.convBn(
    bOut,
    {
      conv: `${b}.conv_c`,
      norm: `${b}.norm_c`,
      inChannels: spec.dimInner,
      outChannels: spec.dimOut,
      kernel: [1, 1, 1],
      stride: [1, 1, 1],
      padding: [0, 0, 0],
    },
    false,
  );
  return net.addRelu(shortcut, c, spec.path);
}
