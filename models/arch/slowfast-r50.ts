import type { NetworkSink, Triple } from './network.ts';
import { R50_STAGE_DEPTHS, resBasicStem, resStage } from './resnet-blocks.ts';
import type { ArchitectureDefinition } from './definition.ts';

const CLASSES = 400;
/** Fast pathway channels = slow channels / BETA_INV. */
const BETA_INV = 8;
/** Slow/fast frame-rate ratio; the lateral conv's temporal stride. */
const ALPHA = 4;
/** The lateral conv outputs FUSION_RATIO x its input channels. */
const FUSION_RATIO = 2;
/** slowfast_r50 passes slowfast_fusion_conv_kernel_size=(7, 1, 1). */
const FUSION_KERNEL: Triple = [7, 1, 1];

const SLOW_CONV_A: readonly Triple[] = [
  [1, 1, 1],
  [1, 1, 1],
  [3, 1, 1],
  [3, 1, 1],
];
const FAST_CONV_A: Triple = [3, 1, 1];
const SPATIAL_STRIDES = [1, 2, 2, 2] as const;

export interface SlowFastBodySpec {
  /** Module path prefix: "" for the hub classifier, "model." inside DetectionBBoxNetwork. */
  prefix: string;
  /** H = W of both inputs, or null for any H and W. */
  size: number | null;
  /** Spatial stride of the first block of res2..res5. */
  spatialStrides: readonly number[];
  /** Spatial dilation of conv_b in res5 (1 for the classifier, 2 for the AVA detector). */
  res5Dilation: number;
}

/** The pathways after res5, and their channel counts. */
export interface SlowFastFeatures<V> {
  slow: V;
  fast: V;
  slowChannels: number;
  fastChannels: number;
}

/**
 * create_slowfast's blocks.0..4 for depth 50: MultiPathWayWithFuse (slow and fast stems/stages,
 * then a FuseFastToSlow lateral after every one but the last).
 */
export function slowfastBody<V>(net: NetworkSink<V>, spec: SlowFastBodySpec): SlowFastFeatures<V> {
  const p = spec.prefix;
  let slow = net.input('slow', 8, spec.size);
  let fast = net.input('fast', 32, spec.size);

  const slowStemOut = 64;
  slow = resBasicStem(net, slow, { path: `${p}blocks.0.multipathway_blocks.0`, inChannels: 3, outChannels: slowStemOut, convKernel: [1, 7, 7] });
  fast = resBasicStem(net, fast, {
    path: `${p}blocks.0.multipathway_blocks.1`,
    inChannels: 3,
    outChannels: slowStemOut / BETA_INV,
    convKernel: [5, 7, 7],
  });
  slow = fuseFastToSlow(net, slow, fast, `${p}blocks.0.multipathway_fusion`, slowStemOut / BETA_INV);

  let stageDimIn = slowStemOut;
  let stageDimOut = stageDimIn * 4;
  for (let idx = 0; idx < R50_STAGE_DEPTHS.length; idx++) {
    const path = `${p}blocks.${idx + 1}`;
    const depth = R50_STAGE_DEPTHS[idx]!;
    const spatialStride = spec.spatialStrides[idx]!;
    const spatialDilation = idx === R50_STAGE_DEPTHS.length - 1 ? spec.res5Dilation : 1;
    slow = resStage(net, slow, {
      path: `${path}.multipathway_blocks.0`,
      depth,
      dimIn: stageDimIn + (stageDimIn * FUSION_RATIO) / BETA_INV,
      dimInner: stageDimOut / 4,
      dimOut: stageDimOut,
      convAKernels: [SLOW_CONV_A[idx]!],
      spatialStride,
      spatialDilation,
    });
    fast = resStage(net, fast, {
      path: `${path}.multipathway_blocks.1`,
      depth,
      dimIn: stageDimIn / BETA_INV,
      dimInner: stageDimOut / 4 / BETA_INV,
      dimOut: stageDimOut / BETA_INV,
      convAKernels: [FAST_CONV_A],
      spatialStride,
      spatialDilation,
    });
    // The last stage's fusion is nn.Identity (FastToSlowFusionBuilder's max_stage_idx).
    if (idx < R50_STAGE_DEPTHS.length - 1) {
      slow = fuseFastToSlow(net, slow, fast, `${path}.multipathway_fusion`, stageDimOut / BETA_INV);
    }
    stageDimIn = stageDimOut;
    stageDimOut *= 2;
  }
  return { slow, fast, slowChannels: stageDimIn, fastChannels: stageDimIn / BETA_INV };
}

/**
 * pytorchvideo.models.hub.slowfast_r50: create_slowfast with its defaults for depth 50 (the body
 * above), then blocks.5 pools each pathway (AvgPool3d 8x7x7 and 32x7x7, stride 1) and
 * concatenates, and blocks.6 is the head (Linear 2304->400, global average).
 */
export const slowfastR50: ArchitectureDefinition = {
  origin: 'PyTorchVideo hub slowfast_r50',
  inputs: [
    { name: 'slow', frames: 8, size: 256 },
    { name: 'fast', frames: 32, size: 256 },
  ],
  walk<V>(net: NetworkSink<V>): void {
    const f = slowfastBody(net, { prefix: '', size: 256, spatialStrides: SPATIAL_STRIDES, res5Dilation: 1 });
    const pooled = net.concat([net.avgPool(f.slow, 'blocks.5.pool.0', [8, 7, 7]), net.avgPool(f.fast, 'blocks.5.pool.1', [32, 7, 7])], 'blocks.5');
    net.classify(pooled, 'blocks.6.proj', f.slowChannels + f.fastChannels, CLASSES);
  },
};

/** FuseFastToSlow: Conv3d 7x1x1 stride alpha x1x1 on the fast features -> BN -> ReLU, appended to the slow channels. */
function fuseFastToSlow<V>(net: NetworkSink<V>, slow: V, fast: V, path: string, fastChannels: number): V {
  const lateral = net.convBn(
    fast,
    {
      conv: `${path}.conv_fast_to_slow`,
      norm: `${path}.norm`,
      inChannels: fastChannels,
      outChannels: fastChannels * FUSION_RATIO,
      kernel: FUSION_KERNEL,
      stride: [ALPHA, 1, 1],
      padding: [FUSION_KERNEL[0] >> 1, 0, 0],
    },
    true,
  );
  return net.concat([slow, lateral], path);
}
