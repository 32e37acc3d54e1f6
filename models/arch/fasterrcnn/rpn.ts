/**
 * torchvision RegionProposalNetwork at test time, for one image: RPNHead (v2: two 3x3 conv+ReLU,
 * then 1x1 objectness and box deltas, shared by all levels), AnchorGenerator (one size per
 * level, aspect ratios 0.5/1/2), top 1000 per level by objectness, BoxCoder decode, clip,
 * remove_small_boxes(1e-3), NMS 0.7 per level, the best 1000 by objectness.
 */
import type { GraphOps } from '../../onnx/ops.ts';
import type { StateDict } from '../../tensor.ts';
import type { KeyShape } from '../key-layout.ts';
import { FPN_CHANNELS } from './backbone.ts';
import { clipBoxes, decodeBoxes, imageExtent, largeEnough, type BoxColumns } from './boxes.ts';
import { conv2d } from './layers.ts';

/** _default_anchorgen: one anchor size per FPN level, three aspect ratios everywhere. */
export const ANCHOR_SIZES = [32, 64, 128, 256, 512] as const;
export const ASPECT_RATIOS = [0.5, 1, 2] as const;
const ANCHORS_PER_CELL = ASPECT_RATIOS.length;
/** rpn_pre_nms_top_n_test, rpn_post_nms_top_n_test, rpn_nms_thresh; RPN's min_size. */
export const RPN_PRE_NMS_TOP_N = 1000;
export const RPN_POST_NMS_TOP_N = 1000;
export const RPN_NMS_THRESHOLD = 0.7;
const RPN_MIN_SIZE = 1e-3;

export function rpnKeys(): KeyShape[] {
  return [
    ['rpn.head.conv.0.0.weight', [FPN_CHANNELS, FPN_CHANNELS, 3, 3]],
    ['rpn.head.conv.0.0.bias', [FPN_CHANNELS]],
    ['rpn.head.conv.1.0.weight', [FPN_CHANNELS, FPN_CHANNELS, 3, 3]],
    ['rpn.head.conv.1.0.bias', [FPN_CHANNELS]],
    ['rpn.head.cls_logits.weight', [ANCHORS_PER_CELL, FPN_CHANNELS, 1, 1]],
    ['rpn.head.cls_logits.bias', [ANCHORS_PER_CELL]],
    ['rpn.head.bbox_pred.weight', [ANCHORS_PER_CELL * 4, FPN_CHANNELS, 1, 1]],
    ['rpn.head.bbox_pred.bias', [ANCHORS_PER_CELL * 4]],
  ];
}

/** Round half to even, as torch.round. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * AnchorGenerator.generate_anchors in float32: [-w, -h, w, h] / 2 rounded, one row per ratio
 * (w = size / sqrt(ratio), h = size * sqrt(ratio)).
 */
export function baseAnchors(size: number): number[][] {
  const f = Math.fround;
  return ASPECT_RATIOS.map((ratio) => {
    const hRatio = f(Math.sqrt(f(ratio)));
    const wRatio = f(1 / hRatio);
    const w = f(wRatio * size);
    const h = f(hRatio * size);
    return [-w, -h, w, h].map((v) => roundHalfEven(f(v / 2)));
  });
}

export interface RpnHeadOutputs {
  /** Per level: objectness logits [1, 3, h, w] and deltas [1, 12, h, w]. */
  objectness: string[];
  deltas: string[];
}

/** RPNHead on every level (the same weights). */
export function rpnHead(o: GraphOps, sd: StateDict, features: readonly string[]): RpnHeadOutputs {
  // The shared weights become initializers once; later levels reuse them by name.
  const objectness: string[] = [];
  const deltas: string[] = [];
  features.forEach((feature, level) => {
    const shared = level === 0 ? sd : undefined;
    let t = sharedConv(o, sd, shared, feature, 'rpn.head.conv.0.0', 1, true);
    t = sharedConv(o, sd, shared, t, 'rpn.head.conv.1.0', 1, true);
    objectness.push(sharedConv(o, sd, shared, t, 'rpn.head.cls_logits', 0, false));
    deltas.push(sharedConv(o, sd, shared, t, 'rpn.head.bbox_pred', 0, false));
  });
  return { objectness, deltas };
}

/** A conv with bias whose initializers are made on first use (`first` set) and reused after. */
function sharedConv(o: GraphOps, sd: StateDict, first: StateDict | undefined, x: string, name: string, padding: number, relu: boolean): string {
  if (first) return conv2d(o, sd, x, { conv: name, padding, relu });
  const shape = sd.get(`${name}.weight`)!.shape;
  const y = o.op('Conv', [x, `${name}.weight`, `${name}.bias`], name, {
    kernel_shape: { ints: shape.slice(2) },
    strides: { ints: [1, 1] },
    pads: { ints: [padding, padding, padding, padding] },
  });
  return relu ? o.op('Relu', [y], `${name}.relu`) : y;
}

/** The anchors of one level, [h * w * 3, 4] in (y, x, ratio) order, as AnchorGenerator.grid_anchors. */
function levelAnchors(o: GraphOps, image: string, feature: string, size: number, hint: string): string {
  const imageHw = o.op('Shape', [image], `${hint}.image_hw`, { start: { int: 2 }, end: { int: 4 } });
  const featureHw = o.op('Shape', [feature], `${hint}.feature_hw`, { start: { int: 2 }, end: { int: 4 } });
  // Strides are integer divisions of the (padded) image size by the grid size, per axis.
  const stride = o.op('Div', [imageHw, featureHw], `${hint}.stride`);
  const [strideY, strideX] = o.split(stride, 0, [1, 1], `${hint}.stride_yx`);
  const [gridH, gridW] = o.split(featureHw, 0, [1, 1], `${hint}.grid_hw`);
  const range = (n: string, step: string, axis: string) =>
    o.cast(o.mul(o.op('Range', [o.i64([0], []), o.reshape(n, [], `${hint}.n${axis}`), o.i64([1], [])], `${hint}.range${axis}`), step), 'float32', `${hint}.shift${axis}`);
  const xs = o.unsqueeze(range(gridW!, strideX!, 'x'), [0], `${hint}.xs`); // [1, w]
  const ys = o.unsqueeze(range(gridH!, strideY!, 'y'), [1], `${hint}.ys`); // [h, 1]
  const shiftX = o.unsqueeze(o.op('Expand', [xs, featureHw], `${hint}.gx`), [2]);
  const shiftY = o.unsqueeze(o.op('Expand', [ys, featureHw], `${hint}.gy`), [2]);
  const shifts = o.reshape(o.concat([shiftX, shiftY, shiftX, shiftY], 2, `${hint}.shifts`), [-1, 1, 4]);
  const base = o.f32(baseAnchors(size).flat(), [1, ANCHORS_PER_CELL, 4], `${hint}.base`);
  return o.reshape(o.add(shifts, base, `${hint}.anchors`), [-1, 4]);
}

function columns(o: GraphOps, boxes: string, hint: string): BoxColumns {
  return o.split(boxes, 1, [1, 1, 1, 1], hint) as BoxColumns;
}

/** The RPN's proposals for the image, [P, 4] (P <= 1000), best objectness first. */
export function proposals(o: GraphOps, image: string, features: readonly string[], head: RpnHeadOutputs): string {
  const logits: string[] = [];
  const anchors: string[] = [];
  const deltas: string[] = [];
  const levels: string[] = [];
  features.forEach((feature, level) => {
    const hint = `rpn.l${level}`;
    // permute_and_flatten: [1, A, h, w] -> (h, w, A); [1, A*4, h, w] -> (h, w, A, 4).
    const flatLogits = o.reshape(o.op('Transpose', [head.objectness[level]!], `${hint}.obj_t`, { perm: { ints: [0, 2, 3, 1] } }), [-1], `${hint}.obj`);
    const d = o.reshape(head.deltas[level]!, [1, ANCHORS_PER_CELL, 4, -1], `${hint}.d4`);
    const flatDeltas = o.reshape(o.op('Transpose', [d], `${hint}.d_t`, { perm: { ints: [0, 3, 1, 2] } }), [-1, 4], `${hint}.deltas`);
    const levelAnchorBoxes = levelAnchors(o, image, feature, ANCHOR_SIZES[level]!, hint);
    const k = o.op('Min', [o.dim(flatLogits, 0, `${hint}.count`), o.i64([RPN_PRE_NMS_TOP_N])], `${hint}.k`);
    const [topLogits, topIndex] = o.ops('TopK', [flatLogits, k], 2, `${hint}.top`, { axis: { int: 0 }, largest: { int: 1 }, sorted: { int: 1 } });
    logits.push(topLogits!);
    anchors.push(o.gather(levelAnchorBoxes, topIndex!, 0, `${hint}.top_anchors`));
    deltas.push(o.gather(flatDeltas, topIndex!, 0, `${hint}.top_deltas`));
    levels.push(o.op('Expand', [o.i64([level], [1]), o.dim(topIndex!, 0)], `${hint}.level`));
  });
  const allLogits = o.concat(logits, 0, 'rpn.logits');
  const allLevels = o.concat(levels, 0, 'rpn.levels');
  const decoded = decodeBoxes(o, columns(o, o.concat(anchors, 0, 'rpn.anchors'), 'rpn.anchor_cols'), columns(o, o.concat(deltas, 0, 'rpn.deltas'), 'rpn.delta_cols'), [1, 1, 1, 1], 'rpn.decode');
  const clipped = clipBoxes(o, decoded, imageExtent(o, image), 'rpn');
  const boxes = o.concat(clipped, 1, 'rpn.boxes');
  const scores = o.op('Sigmoid', [allLogits], 'rpn.scores');

  const keep = o.where(o.reshape(largeEnough(o, clipped, RPN_MIN_SIZE, 'rpn'), [-1], 'rpn.large_flat'), 'rpn.keep');
  const keptBoxes = o.gather(boxes, keep, 0, 'rpn.kept_boxes');
  const keptScores = o.gather(scores, keep, 0, 'rpn.kept_scores');
  const keptLevels = o.gather(allLevels, keep, 0, 'rpn.kept_levels');

  // batched_nms by level, as torchvision runs it on CPU for this many boxes (_batched_nms_vanilla):
  // each level on its own, then the survivors by score. One NMS class per level; a box scores
  // -1 (below the threshold, so never a candidate) in every class but its own.
  const perLevel = ANCHOR_SIZES.map((_, level) =>
    o.op('Where', [o.op('Equal', [keptLevels, o.i64([level], [])], `rpn.is_l${level}`), keptScores, o.f32([-1], [])], `rpn.score_l${level}`),
  );
  const classScores = o.unsqueeze(o.concat(perLevel.map((s) => o.unsqueeze(s, [0])), 0, 'rpn.class_scores'), [0]);
  const selected = o.op(
    'NonMaxSuppression',
    [o.unsqueeze(keptBoxes, [0]), classScores, o.i64([RPN_POST_NMS_TOP_N]), o.f32([RPN_NMS_THRESHOLD]), o.f32([-0.5])],
    'rpn.nms',
  );
  const survivors = o.reshape(o.gather(selected, o.i64([2], []), 1, 'rpn.nms_index'), [-1], 'rpn.survivors');
  const survivorScores = o.gather(keptScores, survivors, 0, 'rpn.survivor_scores');
  const n = o.op('Min', [o.dim(survivors, 0, 'rpn.survivor_count'), o.i64([RPN_POST_NMS_TOP_N])], 'rpn.n');
  const [, order] = o.ops('TopK', [survivorScores, n], 2, 'rpn.best', { axis: { int: 0 }, largest: { int: 1 }, sorted: { int: 1 } });
  return o.gather(keptBoxes, o.gather(survivors, order!, 0, 'rpn.best_index'), 0, 'rpn.proposals');
}
