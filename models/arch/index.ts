/**
 * The architectures vidx builds, each an ONNX graph (opset 17) from a PyTorch state dict:
 * - clip classifiers (PyTorchVideo hub): NCTHW float32 inputs with a dynamic batch "N", output
 *   "logits" [N, 400];
 * - slowfast_r50_detection (PyTorchVideo hub, AVA): inputs slow/fast [N, 3, T, H, W] (any H, W)
 *   and boxes [K, 5], output "probs" [K, 80];
 * - fasterrcnn_resnet50_fpn_v2 (torchvision, COCO): input image [1, 3, H, W], optional
 *   score_threshold, outputs boxes [N, 4], scores [N], labels [N] (int64).
 */
import type { Architecture } from '../../core/model/manifest.ts';
import { VidxError } from '../../core/errors.ts';
import { OnnxGraphBuilder } from '../onnx/graph-builder.ts';
import { onnx, type OnnxTypes } from '../onnx/proto.ts';
import type { StateDict } from '../tensor.ts';
import { isEmbedder } from '../../core/model/manifest.ts';
import { clipKeys } from './clip.ts';
import type { ArchitectureDefinition, ModelInput } from './definition.ts';
import { fasterrcnnResnet50FpnV2, type FasterRcnnGraphOptions } from './fasterrcnn-resnet50-fpn-v2.ts';
import { i3dInceptionV1 } from './i3d-inception-v1.ts';
import { i3dR50 } from './i3d-r50.ts';
import { KeyLayoutSink, type KeyShape } from './key-layout.ts';
import { marsResNeXt101 } from './mars-resnext101.ts';
import { OnnxSink } from './onnx-sink.ts';
import { slowfastR50Detection } from './slowfast-r50-detection.ts';
import { slowfastR50 } from './slowfast-r50.ts';
import { tpsSwinTiny } from './tps-swin-tiny.ts';
import { checkStateDict } from './state-check.ts';

export type { ModelInput } from './definition.ts';
export type { FasterRcnnGraphOptions } from './fasterrcnn-resnet50-fpn-v2.ts';
export { BOXES, FEATURES, LOGITS, LOGITS_PER_TIME, PROBS } from './onnx-sink.ts';

export const OPSET = 17;

/** The clip models, written as one walk over their modules (see network.ts). */
const WALKS = {
  slowfast_r50: slowfastR50,
  i3d_r50: i3dR50,
  i3d_inception_v1: i3dInceptionV1,
  mars_resnext101: marsResNeXt101,
  tps_swin_tiny: tpsSwinTiny,
  slowfast_r50_detection: slowfastR50Detection,
} as const satisfies Partial<Record<Architecture, ArchitectureDefinition>>;

export type WalkArchitecture = keyof typeof WALKS;

function isWalk(arch: Architecture): arch is WalkArchitecture {
  return arch in WALKS;
}

/** Clip inputs per architecture that takes clips, in graph order (SlowFast: slow then fast). */
export const INPUTS = Object.fromEntries(Object.entries(WALKS).map(([arch, d]) => [arch, d.inputs])) as Record<WalkArchitecture, ModelInput[]>;

/** The state-dict layout of the reference model, in order, num_batches_tracked included. */
export function expectedKeys(arch: Architecture): KeyShape[] {
  return keyLayout(arch).keys;
}

/** Length of the pooled features an action model's head reads (its `features` output). */
export function featureSize(arch: WalkArchitecture): number {
  const size = layoutOf(WALKS[arch]).featureSize;
  if (size === undefined) throw new VidxError('MODEL_UNKNOWN_ARCH', `${arch} has no classifier head`, { hint: 'only action models have pooled features' });
  return size;
}

/** A model's key layout, with the integer buffers its modules construct (e.g. Swin's relative_position_index). */
export type KeyLayout = Pick<KeyLayoutSink, 'keys' | 'integerBuffers'>;

export function keyLayout(arch: Architecture): KeyLayout {
  if (isEmbedder(arch)) return { keys: clipKeys(arch), integerBuffers: new Map() };
  if (!isWalk(arch)) return { keys: fasterrcnnResnet50FpnV2.expectedKeys(), integerBuffers: new Map() };
  return layoutOf(WALKS[arch]);
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

export interface BuildOptions {
  /** Faster R-CNN only: test builds that expose intermediate stages (see FasterRcnnGraphOptions). */
  detector?: FasterRcnnGraphOptions;
}

/**
 * Builds the ONNX model. Strict like load_state_dict(strict=True): a missing, unexpected or
 * mis-shaped key throws MODEL_STATE_MISMATCH. float16/float64 weights are converted to float32.
 */
export function buildOnnx(arch: Architecture, sd: StateDict, options: BuildOptions = {}): Uint8Array {
  return onnx.ModelProto.encode(buildModel(arch, sd, options)).finish();
}

/** buildOnnx before encoding: the float entry as a ModelProto (weights referenced, not copied). */
export function buildModel(arch: Architecture, sd: StateDict, options: BuildOptions = {}): OnnxTypes.IModelProto {
  if (isEmbedder(arch)) {
    throw new VidxError('MODEL_UNKNOWN_ARCH', `${arch} is two graphs (image and text towers), not one`, { hint: 'build it with buildClip (models/arch/clip.ts)' });
  }
  checkStateDict(arch, sd, expectedKeys(arch));
  const graph = new OnnxGraphBuilder();
  if (isWalk(arch)) {
    const definition: ArchitectureDefinition = WALKS[arch];
    definition.walk(new OnnxSink(graph, sd));
    return graph.toModel({ opset: OPSET, producer: 'vidx', docString: `${arch} (${definition.origin ?? 'vidx'}), BatchNorm folded` });
  }
  fasterrcnnResnet50FpnV2.emit(graph, sd, options.detector ?? {});
  return graph.toModel({ opset: OPSET, producer: 'vidx', docString: `${arch} (torchvision architecture), BatchNorm folded, post-processing in the graph` });
}
