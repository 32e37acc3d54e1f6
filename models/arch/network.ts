/**
 * The vocabulary an architecture is written in. An architecture is one walk over its modules,
 * in PyTorch registration order, against a NetworkSink; the same walk yields the state-dict
 * layout (KeyLayoutSink) or the ONNX graph (OnnxSink), so the two cannot drift apart.
 */

/** (T, H, W) */
export type Triple = readonly [number, number, number];

/**
 * Zero padding per axis: symmetric (one Triple), or explicit begin/end amounts, as TensorFlow's
 * "SAME" padding needs when the total is odd (the extra pixel goes at the end).
 */
export type Padding = Triple | { readonly begin: Triple; readonly end: Triple };

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
  padding: Padding;
  /** Grouped convolution (ResNeXt's cardinality); the weight is [out, in / groups, ...kernel]. Default 1. */
  groups?: number;
  /** BatchNorm epsilon; default PyTorch's 1e-5 (the I3D port keeps TensorFlow's 1e-3). */
  eps?: number;
}

export interface NetworkSink<V> {
  /** A model input, NCTHW with a dynamic batch. */
  input(name: string, frames: number, size: number): V;
  convBn(x: V, spec: ConvBnSpec, relu: boolean): V;
  /**
   * MaxPool3d. Padded cells never win (PyTorch pads with -inf); the I3D port pads with zeros, which
   * is the same there because every pooled tensor follows a ReLU.
   */
  maxPool(x: V, name: string, kernel: Triple, stride: Triple, padding: Padding): V;
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
  /**
   * I3D's head after its pool: a 1x1x1 Conv3d with bias at every position of x (spatially 1x1),
   * giving per-time logits [N, classes, T]; the model's logits are their mean over time.
   */
  classifyPerTime(x: V, conv: string, inChannels: number, classes: number): void;
}

export function samePadding(kernel: Triple): Triple {
  return [kernel[0] >> 1, kernel[1] >> 1, kernel[2] >> 1];
}
