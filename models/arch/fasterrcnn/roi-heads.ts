/**
 * torchvision RoIHeads at test time, for one image: MultiScaleRoIAlign (FPN levels 0-3, 7x7,
 * sampling ratio 2, LevelMapper k 2..5, canonical 224 at level 4), FastRCNNConvFCHead (v2: four
 * 3x3 conv+BN+ReLU, Flatten, Linear 12544->1024 + ReLU), FastRCNNPredictor, then
 * postprocess_detections: softmax, class-wise decode (weights 10, 10, 5, 5), clip, background
 * dropped, score > threshold, remove_small_boxes(1e-2), NMS 0.5 per class (batched by
 * coordinate offset), the best 100.
 */
import type { GraphOps } from '../../onnx/ops.ts';
import { roiAlignTorchvision } from '../../onnx/roi-align.ts';
import type { StateDict } from '../../tensor.ts';
import { batchNormKeys, type KeyShape } from '../key-layout.ts';
import { FPN_CHANNELS } from './backbone.ts';
import { clipBoxes, decodeBoxes, imageExtent, largeEnough, type BoxColumns } from './boxes.ts';
import { conv2d, linear } from './layers.ts';

/** COCO categories incl. background (torchvision's num_classes). */
export const DETECTOR_CLASSES = 91;
const POOLED = 7;
const SAMPLING_RATIO = 2;
const HEAD_CONVS = 4;
const REPRESENTATION = 1024;
/** LevelMapper(k_min=2, k_max=5, canonical_scale=224, canonical_level=4, eps=1e-6). */
const K_MIN = 2;
const K_MAX = 5;
const CANONICAL_SCALE = 224;
const CANONICAL_LEVEL = 4;
const LEVEL_EPS = 1e-6;
/** box_nms_thresh, box_detections_per_img, and the min box size of postprocess_detections. */
export const BOX_NMS_THRESHOLD = 0.5;
export const DETECTIONS_PER_IMAGE = 100;
const BOX_MIN_SIZE = 1e-2;
const BOX_WEIGHTS = [10, 10, 5, 5] as const;

export function roiHeadKeys(): KeyShape[] {
  const keys: KeyShape[] = [];
  for (let i = 0; i < HEAD_CONVS; i++) {
    keys.push([`roi_heads.box_head.${i}.0.weight`, [FPN_CHANNELS, FPN_CHANNELS, 3, 3]], ...batchNormKeys(`roi_heads.box_head.${i}.1`, FPN_CHANNELS));
  }
  keys.push(['roi_heads.box_head.5.weight', [REPRESENTATION, FPN_CHANNELS * POOLED * POOLED]], ['roi_heads.box_head.5.bias', [REPRESENTATION]]);
  keys.push(['roi_heads.box_predictor.cls_score.weight', [DETECTOR_CLASSES, REPRESENTATION]], ['roi_heads.box_predictor.cls_score.bias', [DETECTOR_CLASSES]]);
  keys.push(['roi_heads.box_predictor.bbox_pred.weight', [DETECTOR_CLASSES * 4, REPRESENTATION]], ['roi_heads.box_predictor.bbox_pred.bias', [DETECTOR_CLASSES * 4]]);
  return keys;
}

function columns(o: GraphOps, boxes: string, axis: number, hint: string): BoxColumns {
  return o.split(boxes, axis, [1, 1, 1, 1], hint) as BoxColumns;
}

/** MultiScaleRoIAlign: each proposal pooled from the level LevelMapper picks. [P, 256, 7, 7]. */
function multiScaleRoiAlign(o: GraphOps, features: readonly string[], proposals: string): string {
  const [x1, y1, x2, y2] = columns(o, proposals, 1, 'pooler.cols');
  const size = o.op('Sqrt', [o.mul(o.sub(x2, x1), o.sub(y2, y1), 'pooler.area')], 'pooler.size');
  // floor(lvl0 + log2(s / s0) + eps), clamped to [k_min, k_max], minus k_min.
  const log2 = o.div(o.op('Log', [o.div(size, o.f32([CANONICAL_SCALE], []))], 'pooler.ln'), o.f32([Math.LN2], []), 'pooler.log2');
  const raw = o.op('Floor', [o.add(o.add(o.f32([CANONICAL_LEVEL], []), log2), o.f32([LEVEL_EPS], []))], 'pooler.floor');
  const level = o.sub(o.op('Clip', [raw, o.f32([K_MIN], []), o.f32([K_MAX], [])], 'pooler.clamp'), o.f32([K_MIN], []), 'pooler.level');
  const levelMask = o.reshape(level, [-1, 1, 1, 1], 'pooler.level4d');
  const batchIndex = o.op('Expand', [o.i64([0], [1]), o.dim(proposals, 0, 'pooler.count')], 'pooler.batch');
  const pooled = Array.from({ length: K_MAX - K_MIN + 1 }, (_, l) =>
    roiAlignTorchvision(o.graph, features[l]!, proposals, batchIndex, { outputSize: POOLED, spatialScale: 2 ** -(l + K_MIN), samplingRatio: SAMPLING_RATIO }, `pooler.roi_align${l}`),
  );
  // Every proposal is pooled at every level and the mapped level's result kept: the same values
  // as torchvision's per-level gather/scatter, for a fraction of the box head's cost.
  let out = pooled[pooled.length - 1]!;
  for (let l = pooled.length - 2; l >= 0; l--) {
    out = o.op('Where', [o.op('Equal', [levelMask, o.f32([l], [])], `pooler.is_l${l}`), pooled[l]!, out], `pooler.pick${l}`);
  }
  return out;
}

export interface BoxHeadOutputs {
  /** [P, 91] */
  classLogits: string;
  /** [P, 364] */
  boxRegression: string;
}

/** Pooler, box head and predictor on the proposals [P, 4]. */
export function boxHead(o: GraphOps, sd: StateDict, features: readonly string[], proposals: string): BoxHeadOutputs {
  let x = multiScaleRoiAlign(o, features, proposals);
  for (let i = 0; i < HEAD_CONVS; i++) {
    x = conv2d(o, sd, x, { conv: `roi_heads.box_head.${i}.0`, norm: `roi_heads.box_head.${i}.1`, padding: 1, relu: true });
  }
  const flat = o.op('Flatten', [x], 'roi_heads.box_head.4', { axis: { int: 1 } });
  const representation = linear(o, sd, flat, 'roi_heads.box_head.5', true);
  return {
    classLogits: linear(o, sd, representation, 'roi_heads.box_predictor.cls_score', false),
    boxRegression: linear(o, sd, representation, 'roi_heads.box_predictor.bbox_pred', false),
  };
}

export interface Detections {
  boxes: string;
  scores: string;
  labels: string;
}

/** RoIHeads.postprocess_detections for one image. */
export function postprocessDetections(o: GraphOps, image: string, proposals: string, head: BoxHeadOutputs, scoreThreshold: string): Detections {
  const scores = o.op('Softmax', [head.classLogits], 'det.softmax', { axis: { int: -1 } });
  const ref = columns(o, o.unsqueeze(proposals, [1], 'det.proposals3d'), 2, 'det.ref');
  const deltas = columns(o, o.reshape(head.boxRegression, [0, -1, 4], 'det.deltas3d'), 2, 'det.delta');
  const decoded = clipBoxes(o, decodeBoxes(o, ref, deltas, BOX_WEIGHTS, 'det.decode'), imageExtent(o, image), 'det');
  const boxes = o.concat(decoded, 2, 'det.boxes'); // [P, 91, 4]

  // Drop the background column, then flatten (proposal, class) pairs.
  const from1 = (x: string, axis: number, hint: string) => o.op('Slice', [x, o.i64([1]), o.i64([DETECTOR_CLASSES]), o.i64([axis])], hint);
  const fgBoxes = o.reshape(from1(boxes, 1, 'det.fg_boxes'), [-1, 4], 'det.flat_boxes');
  const fgScores = o.reshape(from1(scores, 1, 'det.fg_scores'), [-1], 'det.flat_scores');
  const classIds = o.unsqueeze(o.op('Range', [o.i64([1], []), o.i64([DETECTOR_CLASSES], []), o.i64([1], [])], 'det.class_ids'), [0]);
  const fgLabels = o.reshape(o.op('Expand', [classIds, o.op('Shape', [from1(scores, 1, 'det.fg_shape_src')], 'det.fg_shape')], 'det.labels2d'), [-1], 'det.flat_labels');

  const confident = o.op('Greater', [fgScores, scoreThreshold], 'det.confident');
  const large = o.reshape(largeEnough(o, columns(o, fgBoxes, 1, 'det.flat_cols'), BOX_MIN_SIZE, 'det'), [-1], 'det.large_flat');
  const keep = o.where(o.op('And', [confident, large], 'det.keep_mask'), 'det.keep');
  const keptBoxes = o.gather(fgBoxes, keep, 0, 'det.kept_boxes');
  const keptScores = o.gather(fgScores, keep, 0, 'det.kept_scores');
  const keptLabels = o.gather(fgLabels, keep, 0, 'det.kept_labels');

  // batched_nms by the coordinate trick: each class moved by label * (max coordinate + 1), so
  // boxes of different classes never overlap. max(0, ...) keeps ReduceMax defined when empty.
  const maxCoordinate = o.op('ReduceMax', [o.concat([o.reshape(keptBoxes, [-1], 'det.coords'), o.f32([0])], 0, 'det.coords0')], 'det.max_coord', { keepdims: { int: 0 } });
  const offsets = o.mul(o.cast(keptLabels, 'float32', 'det.label_f'), o.add(maxCoordinate, o.f32([1], [])), 'det.offsets');
  const nmsBoxes = o.add(keptBoxes, o.unsqueeze(offsets, [1]), 'det.nms_boxes');
  const selected = o.op(
    'NonMaxSuppression',
    [o.unsqueeze(nmsBoxes, [0]), o.reshape(keptScores, [1, 1, -1], 'det.nms_scores'), o.i64([DETECTIONS_PER_IMAGE]), o.f32([BOX_NMS_THRESHOLD])],
    'det.nms',
  );
  const index = o.reshape(o.gather(selected, o.i64([2], []), 1, 'det.nms_index'), [-1], 'det.index');
  return {
    boxes: o.gather(keptBoxes, index, 0, 'det.out_boxes'),
    scores: o.gather(keptScores, index, 0, 'det.out_scores'),
    labels: o.gather(keptLabels, index, 0, 'det.out_labels'),
  };
}
