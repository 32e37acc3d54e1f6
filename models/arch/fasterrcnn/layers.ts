/** 2-D convolution layers of the torchvision detector, BatchNorm folded into the conv. */
import type { GraphOps } from '../../onnx/ops.ts';
import type { StateDict } from '../../tensor.ts';
import { foldBatchNorm } from '../fold-batchnorm.ts';
import { weight } from '../weights.ts';

export interface Conv2dSpec {
  /** Module path of the Conv2d ("backbone.body.conv1"). */
  conv: string;
  /** Module path of the BatchNorm2d after it; absent when the conv has its own bias. */
  norm?: string;
  stride?: number;
  padding?: number;
  relu: boolean;
}

/** Conv2d (+ BatchNorm2d in eval mode, folded) (+ ReLU). Kernel and channels come from the weight. */
export function conv2d(o: GraphOps, sd: StateDict, x: string, spec: Conv2dSpec): string {
  const shape = sd.get(`${spec.conv}.weight`)!.shape;
  const raw = weight(sd, `${spec.conv}.weight`);
  const folded = spec.norm
    ? foldBatchNorm(raw, {
        gamma: weight(sd, `${spec.norm}.weight`),
        beta: weight(sd, `${spec.norm}.bias`),
        mean: weight(sd, `${spec.norm}.running_mean`),
        variance: weight(sd, `${spec.norm}.running_var`),
      })
    : { weight: raw, bias: weight(sd, `${spec.conv}.bias`) };
  const w = o.graph.initializer(`${spec.conv}.weight`, shape, folded.weight);
  const b = o.graph.initializer(`${spec.conv}.bias`, [shape[0]!], folded.bias);
  const stride = spec.stride ?? 1;
  const pad = spec.padding ?? 0;
  const y = o.op('Conv', [x, w, b], spec.conv, {
    kernel_shape: { ints: shape.slice(2) },
    strides: { ints: [stride, stride] },
    pads: { ints: [pad, pad, pad, pad] },
  });
  return spec.relu ? o.op('Relu', [y], `${spec.conv}.relu`) : y;
}

/** nn.Linear on [N, in] (+ ReLU). */
export function linear(o: GraphOps, sd: StateDict, x: string, name: string, relu: boolean): string {
  const shape = sd.get(`${name}.weight`)!.shape;
  const w = o.graph.initializer(`${name}.weight`, shape, weight(sd, `${name}.weight`));
  const b = o.graph.initializer(`${name}.bias`, [shape[0]!], weight(sd, `${name}.bias`));
  const y = o.op('Gemm', [x, w, b], name, { transB: { int: 1 } });
  return relu ? o.op('Relu', [y], `${name}.relu`) : y;
}
