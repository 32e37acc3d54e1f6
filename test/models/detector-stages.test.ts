/**
 * fasterrcnn_resnet50_fpn_v2 built from the synthetic state dict equals torchvision's, stage by
 * stage (../shared/reference/fasterrcnn_resnet50_fpn_v2.json): FPN maps, RPN head, proposals
 * (as a set), and the box head on six fixed proposals. Test builds expose the stages; the
 * end-to-end detections are checked through the CLI (test/cli/models-detection.test.ts).
 */
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOnnx, expectedKeys } from '../../models/arch/index.ts';
import { baseAnchors } from '../../models/arch/fasterrcnn/rpn.ts';
import { synthesizeStateDict, syntheticInput } from '../../models/synthetic.ts';
import type { StateDict } from '../../models/tensor.ts';
import { maxAbsDiff, nearestRowDistances, readPersonDetectorGolden, summaryError } from './detection-golden.ts';

const golden = readPersonDetectorGolden();
const ARCH = 'fasterrcnn_resnet50_fpn_v2';

async function run(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 2, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('fasterrcnn_resnet50_fpn_v2, stage by stage', () => {
  let sd: StateDict;
  let image: ort.Tensor;
  let stages: ort.InferenceSession.ReturnType;

  beforeAll(async () => {
    sd = synthesizeStateDict(ARCH);
    image = new ort.Tensor('float32', syntheticInput('image', golden.input.shape), golden.input.shape);
    stages = await run(buildOnnx(ARCH, sd, { detector: { expose: 'stages' } }), { image, score_threshold: new ort.Tensor('float32', Float32Array.of(0), []) });
  }, 300_000);

  it('has torchvision state-dict layout: the same 404 names, order and shapes', () => {
    expect(expectedKeys(ARCH)).toEqual(golden.keys);
  });

  it("makes AnchorGenerator's rounded base anchors", () => {
    // torchvision: [-w, -h, w, h] / 2 rounded, w = 32 / sqrt(r), h = 32 * sqrt(r), r = 0.5, 1, 2.
    expect(baseAnchors(32)).toEqual([
      [-23, -11, 23, 11],
      [-16, -16, 16, 16],
      [-11, -23, 11, 23],
    ]);
  });

  it('gives the FPN maps 0, 1, 2, 3 and pool', () => {
    for (const [level, summary] of Object.entries(golden.features)) {
      const t = stages[`features.${level}`]!;
      expect(t.dims, level).toEqual(summary.shape);
      const err = summaryError(t.data as Float32Array, summary);
      expect(err.sample, `${level} samples`).toBeLessThan(1e-4);
      expect(err.sumSq, `${level} sum of squares`).toBeLessThan(1e-5);
      expect(err.sum, `${level} sum`).toBeLessThan(1e-3);
    }
  });

  it('gives the RPN head outputs (objectness, box deltas) on every level', () => {
    golden.rpnHead.objectness.forEach((summary, i) => {
      const t = stages[`rpn.objectness.${i}`]!;
      expect(t.dims).toEqual(summary.shape);
      expect(summaryError(t.data as Float32Array, summary).sample).toBeLessThan(1e-4);
    });
    golden.rpnHead.bboxDeltas.forEach((summary, i) => {
      const t = stages[`rpn.deltas.${i}`]!;
      expect(t.dims).toEqual(summary.shape);
      expect(summaryError(t.data as Float32Array, summary).sample).toBeLessThan(1e-4);
    });
  });

  it('gives the 1000 proposals (decode, clip, small boxes, NMS 0.7 per level, top 1000): the reference ones are all there', () => {
    const proposals = stages.proposals!;
    expect(proposals.dims).toEqual([golden.proposals.count, 4]);
    const distances = nearestRowDistances(proposals.data as Float32Array, 4, golden.proposals.first20);
    expect(Math.max(...distances)).toBeLessThan(1e-3);
  });

  it('gives the box head outputs on the six fixed proposals (MultiScaleRoIAlign, four conv+BN+ReLU, FC 1024)', async () => {
    const fixed = golden.boxHead.proposals;
    const out = await run(buildOnnx(ARCH, sd, { detector: { expose: 'boxHead' } }), {
      image,
      score_threshold: new ort.Tensor('float32', Float32Array.of(0), []),
      proposals: new ort.Tensor('float32', Float32Array.from(fixed.flat()), [fixed.length, 4]),
    });
    expect(out.class_logits!.dims).toEqual([6, 91]);
    expect(out.box_regression!.dims).toEqual([6, 364]);
    expect(maxAbsDiff(out.class_logits!.data as Float32Array, golden.boxHead.classLogits.flat())).toBeLessThan(1e-4);
    expect(maxAbsDiff(out.box_regression!.data as Float32Array, golden.boxHead.boxRegression.flat())).toBeLessThan(1e-4);
  }, 300_000);
});
