/**
 * The architectures vidx builds, each an ONNX graph (opset 17, dynamic batch "N", NCTHW float32
 * inputs, output "logits" [N, 400]) from the state dict of its canonical implementation.
 */
import type { Architecture } from '../../core/model/manifest.ts';
import { OnnxGraphBuilder } from '../onnx/graph-builder.ts';
import { onnx, type OnnxTypes } from '../onnx/proto.ts';
import type { StateDict } from '../tensor.ts';
import type { ArchitectureDefinition, ModelInput } from './definition.ts';
import { i3dInceptionV1 } from './i3d-inception-v1.ts';
import { i3dR50 } from './i3d-r50.ts';
import { KeyLayoutSink, type KeyShape } from './key-layout.ts';
import { marsResNeXt101 } from './mars-resnext101.ts';
import { OnnxSink } from './onnx-sink.ts';
import { slowfastR50 } from './slowfast-r50.ts';
import { tpsSwinTiny } from './tps-swin-tiny.ts';
import { checkStateDict } from './state-check.ts';

export type { ModelInput } from './definition.ts';
export { LOGITS, LOGITS_PER_TIME } from './onnx-sink.ts';

export const OPSET = 17;

const DEFINITIONS: Record<Architecture, ArchitectureDefinition> = {
  slowfast_r50: slowfastR50,
  i3d_r50: i3dR50,
  i3d_inception_v1: i3dInceptionV1,
  mars_resnext101: marsResNeXt101,
  tps_swin_tiny: tpsSwinTiny,
};

/** Graph inputs per architecture, in graph order (SlowFast: slow then fast). */
export const INPUTS = Object.fromEntries(Object.entries(DEFINITIONS).map(([arch, d]) => [arch, d.inputs])) as Record<Architecture, ModelInput[]>;

/** The state-dict layout of the canonical model, in order, num_batches_tracked included. */
export function expectedKeys(arch: Architecture): KeyShape[] {
  return keyLayout(arch).keys;
}

/** The walk's key layout, with the integer buffers its modules construct (e.g. Swin's relative_position_index). */
export function keyLayout(arch: Architecture): KeyLayoutSink {
  return layoutOf(DEFINITIONS[arch]);
}

/** The key layout in state-dict order: the walk's (forward) order, `registeredFirst` modules moved to the front. */
export function layoutOf(definition: ArchitectureDefinition): KeyLayoutSink {
  const layout = new KeyLayoutSink();
  definition.walk(layout);
  const first = definition.registeredFirst ?? [];
  if (first.length > 0) {
    const isFirst = ([name]: KeyShape) => first.some((prefix) => name.startsWith(prefix));
    const ordered = [...layout.keys.filter(isFirst), ...layout.keys.filter((k) => !isFirst(k))];
    layout.keys.splice(0, layout.keys.length, ...ordered);
  }
  return layout;
}

/**
 * Builds the ONNX model. Strict like load_state_dict(strict=True): a missing, unexpected or
 * mis-shaped key throws MODEL_STATE_MISMATCH. float16/float64 weights are converted to float32.
 */
export function buildOnnx(arch: Architecture, sd: StateDict): Uint8Array {
  return onnx.ModelProto.encode(buildModel(arch, sd)).finish();
}

/** buildOnnx before encoding: the float entry as a ModelProto (weights referenced, not copied). */
export function buildModel(arch: Architecture, sd: StateDict): OnnxTypes.IModelProto {
  checkStateDict(arch, sd, expectedKeys(arch));
  const graph = new OnnxGraphBuilder();
  const definition = DEFINITIONS[arch];
  definition.walk(new OnnxSink(graph, sd));
  return graph.toModel({ opset: OPSET, producer: 'vidx', docString: `${arch} (${definition.origin ?? 'vidx'}), BatchNorm folded` });
}
