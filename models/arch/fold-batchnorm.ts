/** BatchNorm3d's default epsilon; PyTorchVideo's R50 builders keep it. */
export const BATCH_NORM_EPS = 1e-5;

export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

/**
 * Folds eval-mode BatchNorm into the bias-free convolution before it:
 * W' = W * s, b' = beta - mean * s, with s = gamma / sqrt(var + eps) per output channel.
 * Computed in float64, stored as float32.
 */
export function foldBatchNorm(convWeight: Float32Array, bn: BatchNormParams, eps = BATCH_NORM_EPS): { weight: Float32Array; bias: Float32Array } {
  const channels = bn.gamma.length;
  const perChannel = convWeight.length / channels;
  const weight = new Float32Array(convWeight.length);
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const scale = bn.gamma[c]! / Math.sqrt(bn.variance[c]! + eps);
    bias[c] = bn.beta[c]! - bn.mean[c]! * scale;
    const start = c * perChannel;
    for (let i = start; i < start + perChannel; i++) weight[i] = convWeight[i]! * scale;
  }
  return { weight, bias };
}
