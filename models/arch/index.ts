/**
 * The architectures vidx builds, each an ONNX graph (opset 17, dynamic batch "N", NCTHW float32
 * inputs, output "logits" [N, 400]) from the state dict of its canonical implementation.
 */
import type { Architecture } from '../../core/model/manifest.ts';
import { OnnxGraphBuilder } from '../onnx/graph-builder.ts';
import type { StateDict } from '../tensor.ts';
import type { ArchitectureDefinition, ModelInput } from './definition.ts';
import { i3dInceptionV1 } from './i3d-inception-v1.ts';
import { i3dR50 } from './i3d-r50.ts';
import { KeyLayoutSink, type KeyShape } from './key-layout.ts';
import { marsResNeXt101 } from './mars-resnext101.ts';
import { notBuiltYet } from './not-built.ts';
import { OnnxSink } from './onnx-sink.ts';
import { slowfastR50 } from './slowfast-r50.ts';
import { checkStateDict } from './state-check.ts';

export type { ModelInput } from './definition.ts';
export { LOGITS, LOGITS_PER_TIME } from './onnx-sink.ts';
export { MODEL_NOT_BUILT } from './not-built.ts';

export const OPSET = 17;

const DEFINITIONS: Record<Architecture, ArchitectureDefinition> = {
  slowfast_r50: slowfastR50,
  i3d_r50: i3dR50,
  i3d_inception_v1: i3dInceptionV1,
  mars_resnext101: marsResNeXt101,
  tps_swin_tiny: notBuiltYet('tps_swin_tiny', [{ name: 'video', frames: 32, size: 224 }]),
};

/** Graph inputs per architecture, in graph order (SlowFast: slow then fast). */
export const INPUTS = Object.fromEntries(Object.entries(DEFINITIONS).map(([arch, d]) => [arch, d.inputs])) as Record<Architecture, ModelInput[]>;

/** The state-dict layout of the canonical model, in order, num_batches_tracked included. */
export function expectedKeys(arch: Architecture): KeyShape[] {
  const definition = DEFINITIONS[arch];
  const layout = new KeyLayoutSink();
  definition.walk(layout);
  const first = definition.registeredFirst ?? [];
  const isFirst = ([name]: KeyShape) => first.some((prefix) => name.startsWith(prefix));
  return [...layout.keys.filter(isFirst), ...layout.keys.filter((k) => !isFirst(k))];
}

/**
 * Builds the ONNX model. Strict like load_state_dict(strict=True): a missing, unexpected or
 * mis-shaped key throws MODEL_STATE_MISMATCH. float16/float64 weights are converted to float32.
 */
export function buildOnnx(arch: Architecture, sd: StateDict): Uint8Array {
  checkStateDict(arch, sd, expectedKeys(arch));
  const graph = new OnnxGraphBuilder();
  const definition = DEFINITIONS[arch];
  definition.walk(new OnnxSink(graph, sd));
  return graph.encode({ opset: OPSET, producer: 'vidx', docString: `${arch} (${definition.origin ?? 'vidx'}), BatchNorm folded` });
}
