/**
 * torchvision.models.detection.fasterrcnn_resnet50_fpn_v2 (Li et al., "Benchmarking Detection
 * Transfer Learning with Vision Transformers", 2021; COCO box AP 46.7) in eval mode for one
 * image, post-processing included, as one ONNX graph:
 *
 *   image [1, 3, H, W] float32 (normalized, H and W multiples of 32)
 *   score_threshold [] float32: detections must score above it (torchvision's box_score_thresh)
 *   -> boxes [N, 4] float32 (x1, y1, x2, y2 in input pixels), scores [N] float32, labels [N] int64
 *
 * GeneralizedRCNNTransform (resize, normalize, pad) and the final rescale to the original image
 * are the caller's: they depend on the frame, not on the weights.
 */
import type { OnnxGraphBuilder } from '../onnx/graph-builder.ts';
import { GraphOps } from '../onnx/ops.ts';
import type { StateDict } from '../tensor.ts';
import { backbone, backboneKeys, FPN_LEVELS } from './fasterrcnn/backbone.ts';
import { boxHead, postprocessDetections, roiHeadKeys } from './fasterrcnn/roi-heads.ts';
import { proposals, rpnHead, rpnKeys } from './fasterrcnn/rpn.ts';
import type { KeyShape } from './key-layout.ts';

/** Graph input and output names. */
export const DETECTOR_IO = {
  image: 'image',
  scoreThreshold: 'score_threshold',
  boxes: 'boxes',
  scores: 'scores',
  labels: 'labels',
} as const;

/**
 * score_threshold is a plain (required) input: an initializer of the same name would be its
 * default in ONNX, but onnxruntime-node silently drops feeds for such inputs (measured with
 * 1.30: the default always wins). PersonDetector feeds the manifest's threshold unless told
 * otherwise, which is where the default lives.
 */
export interface FasterRcnnGraphOptions {
  /**
   * Test builds only. 'stages' also outputs the FPN maps (`features.<level>`), the RPN head
   * (`rpn.objectness.<i>`, `rpn.deltas.<i>`) and the proposals (`proposals`).
   * 'boxHead' replaces the RPN by an input `proposals` [P, 4] and outputs `class_logits` and
   * `box_regression` besides the detections.
   */
  expose?: 'stages' | 'boxHead';
}

export const fasterrcnnResnet50FpnV2 = {
  expectedKeys(): KeyShape[] {
    return [...backboneKeys(), ...rpnKeys(), ...roiHeadKeys()];
  },

  /** Writes the graph. The state dict must already have been checked against expectedKeys(). */
  emit(graph: OnnxGraphBuilder, sd: StateDict, options: FasterRcnnGraphOptions): void {
    const o = new GraphOps(graph);
    const image = graph.input(DETECTOR_IO.image, [1, 3, 'H', 'W']);
    const threshold = graph.input(DETECTOR_IO.scoreThreshold, []);
    const features = backbone(o, sd, image);
    const expose = (value: string, name: string, shape: Array<number | string>, type: 'float32' | 'int64' = 'float32') => {
      graph.node('Identity', [value], name);
      graph.output(name, shape, type);
    };

    let rois: string;
    if (options.expose === 'boxHead') {
      rois = graph.input('proposals', ['P', 4]);
    } else {
      const head = rpnHead(o, sd, features);
      rois = proposals(o, image, features, head);
      if (options.expose === 'stages') {
        features.forEach((f, i) => expose(f, `features.${FPN_LEVELS[i]}`, [1, 256, `h${i}`, `w${i}`]));
        head.objectness.forEach((v, i) => expose(v, `rpn.objectness.${i}`, [1, 3, `h${i}`, `w${i}`]));
        head.deltas.forEach((v, i) => expose(v, `rpn.deltas.${i}`, [1, 12, `h${i}`, `w${i}`]));
        expose(rois, 'proposals', ['P', 4]);
      }
    }
    const headOut = boxHead(o, sd, features.slice(0, 4), rois);
    if (options.expose === 'boxHead') {
      expose(headOut.classLogits, 'class_logits', ['P', 91]);
      expose(headOut.boxRegression, 'box_regression', ['P', 364]);
    }
    const det = postprocessDetections(o, image, rois, headOut, threshold);
    expose(det.boxes, DETECTOR_IO.boxes, ['N', 4]);
    expose(det.scores, DETECTOR_IO.scores, ['N']);
    expose(det.labels, DETECTOR_IO.labels, ['N'], 'int64');
  },
};
