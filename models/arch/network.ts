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

export interface NetworkSink<V> extends TokenSink<V> {
  /** A model input, NCTHW with a dynamic batch; size null means any H and W. */
  input(name: string, frames: number, size: number | null): V;
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
  /** ResNetRoIHead over the graph input `boxes`; its result is the model's output. */
  roiHead(x: V, spec: RoiHeadSpec): void;
  /**
   * I3D's head after its pool: a 1x1x1 Conv3d with bias at every position of x (spatially 1x1),
   * giving per-time logits [N, classes, T]; the model's logits are their mean over time.
   */
  classifyPerTime(x: V, conv: string, inChannels: number, classes: number): void;
}

/** Conv3d with a bias and no normalization (a ViT-style patch embedding). */
export interface ConvSpec {
  /** Module path of the Conv3d, e.g. "backbone.patch_embed.proj". */
  conv: string;
  inChannels: number;
  outChannels: number;
  kernel: Triple;
  stride: Triple;
}

/*
 * Token vocabulary (transformers). A token tensor is [N, L, C]: L tokens of C channels, frame-major
 * ((frame, row, column), the order flatten(2).transpose(1, 2) gives) unless an op says otherwise.
 */

/** An integer buffer a module constructs itself (a checkpoint carries it; the synthetic rule leaves it). */
export interface IntegerBuffer {
  /** Name within the module, e.g. "relative_position_index". */
  name: string;
  shape: readonly number[];
  values: BigInt64Array;
}

/** Swin window attention over one-frame windows, as TPS's WindowAttention3D with all its shifts. */
export interface WindowAttentionSpec {
  /** Module path, e.g. "backbone.layers.0.blocks.1.attn". */
  path: string;
  channels: number;
  heads: number;
  /** Input tokens are in window order: [frames][windowsPerFrame][windowTokens]. */
  frames: number;
  windowsPerFrame: number;
  windowTokens: number;
  /** Rows of relative_position_bias_table [rows, heads]. */
  tableRows: number;
  /** The module's integer buffers in registration order, with their constructed values. */
  buffers: readonly IntegerBuffer[];
  /** Which buffer ([frames, windowTokens, windowTokens]) indexes the table for this block. */
  biasIndex: string;
  /** Additive mask [windowsPerFrame, windowTokens, windowTokens], the same for every frame; null for none. */
  mask: Float32Array | null;
}

/** TSM's channel shift per head: channels [0, fold) from the previous frame, [fold, 2 fold) from the next. */
export interface TemporalShiftSpec {
  name: string;
  frames: number;
  heads: number;
  headChannels: number;
  fold: number;
}

/** Swin's PatchMerging on a frame-major [N, frames*height*width, channels] sequence. */
export interface PatchMergingSpec {
  /** Module path, e.g. "backbone.layers.0.downsample". */
  path: string;
  frames: number;
  height: number;
  width: number;
  channels: number;
}

export interface TokenSink<V> {
  /** Conv3d with bias. */
  conv(x: V, spec: ConvSpec): V;
  /** NCTHW -> [N, T*H*W, C]. */
  toTokens(x: V, name: string, channels: number): V;
  /** LayerNorm over the channels (eps 1e-5). */
  layerNorm(x: V, name: string, channels: number): V;
  /** nn.Linear applied to every token. */
  linear(x: V, name: string, inFeatures: number, outFeatures: number, bias: boolean): V;
  /** nn.GELU (exact, erf form). */
  gelu(x: V, name: string): V;
  add(a: V, b: V, name: string): V;
  /** Reorders the tokens: output token p is input token order[p]. */
  gatherTokens(x: V, name: string, order: Int32Array): V;
  temporalShift(x: V, spec: TemporalShiftSpec): V;
  windowAttention(x: V, spec: WindowAttentionSpec): V;
  /** 2x2 neighbours concatenated (x0, x1, x2, x3 order), LayerNorm(4C), Linear 4C -> 2C without bias. */
  patchMerging(x: V, spec: PatchMergingSpec): V;
  /** mmaction's I3DHead on tokens: mean over all tokens, then Linear. Its result is the model's output. */
  classifyTokens(x: V, linear: string, inFeatures: number, classes: number): void;
}

export function samePadding(kernel: Triple): Triple {
  return [kernel[0] >> 1, kernel[1] >> 1, kernel[2] >> 1];
}
