/**
 * The vocabulary an architecture is written in. An architecture is one walk over its modules,
 * in PyTorch registration order, against a NetworkSink; the same walk yields the state-dict
 * layout (KeyLayoutSink) or the ONNX graph (OnnxSink), so the two cannot drift apart.
 */

/** (T, H, W) */
export type Triple = readonly [number, number, number];

/** Conv3d without bias followed by BatchNorm3d, as PyTorchVideo builds every convolution here. */
export interface ConvBnSpec {
  /** Module path of the Conv3d, e.g. "blocks.1.res_blocks.0.branch2.conv_a". */
  conv: string;
  /** Module path of the BatchNorm3d that follows it. */
  norm: string;
  inChannels: number;
  outChannels: number;
  kernel: Triple;
  stride: Triple;
  /** Symmetric zero padding per axis. */
  padding: Triple;
  /** Dilation per axis; absent means 1. */
  dilation?: Triple;
}

/**
 * PyTorchVideo's ResNetRoIHead as the AVA models use it: the pooled [N, C, 1, H, W] features,
 * torchvision RoIAlign (aligned=False) of every box, MaxPool2d over the whole RoI, Linear, Sigmoid.
 */
export interface RoiHeadSpec {
  /** Module path of the Linear, e.g. "detection_head.proj". */
  linear: string;
  inFeatures: number;
  classes: number;
  /** RoIAlign output size (H = W). */
  resolution: number;
  /** Feature pixels per input pixel (1/16 for the AVA SlowFast). */
  spatialScale: number;
  /** RoIAlign sampling ratio (0 = adaptive, ceil(bin size)). */
  samplingRatio: number;
}

export interface NetworkSink<V> {
  /** A model input, NCTHW with a dynamic batch; size null means any H and W. */
  input(name: string, frames: number, size: number | null): V;
  convBn(x: V, spec: ConvBnSpec, relu: boolean): V;
  maxPool(x: V, name: string, kernel: Triple, stride: Triple, padding: Triple): V;
  /** AvgPool3d with stride 1 and no padding (the hub models' head pools). */
  avgPool(x: V, name: string, kernel: Triple): V;
  /** Residual sum followed by ReLU. */
  addRelu(a: V, b: V, name: string): V;
  /** Concatenation along channels. */
  concat(xs: readonly V[], name: string): V;
  /**
   * ResNetBasicHead after its pool: Linear applied at every position, then the global average
   * (dropout is the identity in eval mode; no activation). Its result is the model's output.
   */
  classify(x: V, linear: string, inFeatures: number, classes: number): void;
  /** ResNetRoIHead over the graph input `boxes`; its result is the model's output. */
  roiHead(x: V, spec: RoiHeadSpec): void;
}

export function samePadding(kernel: Triple): Triple {
  return [kernel[0] >> 1, kernel[1] >> 1, kernel[2] >> 1];
}
