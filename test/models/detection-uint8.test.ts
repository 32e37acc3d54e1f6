/**
 * The detection models through the generic uint8 entry (models/onnx/uint8-entry.ts): the same
 * outputs as the float graph fed the same bytes normalized (and, for the detector, padded) on the
 * host. Small frames keep it cheap.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { packDetectorImage } from '../../core/detection/frames.ts';
import { inputFrameIndices } from '../../core/video/windows.ts';
import { buildModel } from '../../models/arch/index.ts';
import { manifestFor, SYNTHETIC_RULE } from '../../models/manifests.ts';
import { onnx, type OnnxTypes } from '../../models/onnx/proto.ts';
import { uint8Entry } from '../../models/onnx/uint8-entry.ts';
import { synthesizeStateDict } from '../../models/synthetic.ts';
import { maxAbsDiff } from './detection-golden.ts';

const synthetic = { kind: 'synthetic' as const, rule: SYNTHETIC_RULE };

async function session(model: OnnxTypes.IModelProto): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { executionProviders: ['cpu'], intraOpNumThreads: 2, logSeverityLevel: 3 });
}

/** Deterministic bytes. */
function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 2654435761 + seed) >>> 24);
}

/** uint8 HWC (per frame) -> normalized float CHW (per frame), as the float path's host code does. */
function normalize(rgb: Uint8Array, frames: number, h: number, w: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let t = 0; t < frames; t++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < 3; c++) {
          const v = Math.fround(Math.fround(rgb[((t * h + y) * w + x) * 3 + c]! / 255) - Math.fround(mean[c]!));
          out[((c * frames + t) * h + y) * w + x] = Math.fround(v / Math.fround(std[c]!));
        }
  return out;
}

describe('detection models through the uint8 entry', () => {
  it('fasterrcnn_resnet50_fpn_v2: image_u8 takes the scaled frame at any size and pads in the graph: the float graph detections on packDetectorImage', async () => {
    const m = manifestFor('fasterrcnn_resnet50_fpn_v2', synthetic, false);
    if (m.task !== 'detect-people' || !m.uint8) throw new Error('expected a person detector with a uint8 entry');
    expect(m.uint8.padTo).toBe(m.sizeDivisible);
    const model = buildModel('fasterrcnn_resnet50_fpn_v2', synthesizeStateDict('fasterrcnn_resnet50_fpn_v2'));
    // 21 x 27 (no multiple of 32) pads to 32 x 32: few anchors, so few proposals for the box
    // head (its cost is per proposal). The float path pads on the host, after normalizing.
    const scaled = { height: 21, width: 27 };
    const padded = { height: 32, width: 32 };
    const rgb = bytes(scaled.height * scaled.width * 3, 7);
    const threshold = new ort.Tensor('float32', Float32Array.of(0), []);
    const f = await session(model);
    const u = await session(uint8Entry(model, { frames: 1, inputRange: m.inputRange, mean: m.mean, std: m.std, padTo: m.uint8.padTo }));
    try {
      expect([...u.inputNames].sort()).toEqual([m.scoreThresholdInput, m.uint8.input].sort());
      const image = packDetectorImage(rgb, scaled, padded, m);
      const a = await f.run({ image: new ort.Tensor('float32', image, [1, 3, padded.height, padded.width]), score_threshold: threshold });
      const b = await u.run({ [m.uint8.input]: new ort.Tensor('uint8', rgb, [1, scaled.height, scaled.width, 3]), score_threshold: threshold });
      expect(a.scores!.dims[0]).toBeGreaterThan(0);
      // The same network input bit for bit (normalization as the host's table, exact zeros in
      // the padding), so the same detections, not merely close ones.
      expect(Array.from(b.boxes!.data as Float32Array)).toEqual(Array.from(a.boxes!.data as Float32Array));
      expect(Array.from(b.scores!.data as Float32Array)).toEqual(Array.from(a.scores!.data as Float32Array));
      expect(b.labels!.data).toEqual(a.labels!.data);
    } finally {
      await f.release();
      await u.release();
    }
  }, 300_000);

  it('slowfast_r50_detection: frames [1, 32, H, W, 3] (slow picked in the graph) gives the float graph probabilities', async () => {
    const m = manifestFor('slowfast_r50_detection', synthetic, false);
    if (m.task !== 'detect-actions' || !m.uint8) throw new Error('expected an action detector with a uint8 entry');
    const model = buildModel('slowfast_r50_detection', synthesizeStateDict('slowfast_r50_detection'));
    const [h, w] = [64, 80];
    const rgb = bytes(32 * h * w * 3, 3);
    const fast = normalize(rgb, 32, h, w, m.mean, m.std);
    // PackPathway: slow = frames linspace(0, 31, 8) of the fast ones.
    const slowIdx = inputFrameIndices(32, 8);
    const slow = new Float32Array(3 * 8 * h * w);
    for (let c = 0; c < 3; c++) slowIdx.forEach((t, k) => slow.set(fast.subarray((c * 32 + t) * h * w, (c * 32 + t + 1) * h * w), (c * 8 + k) * h * w));
    const boxes = new ort.Tensor('float32', Float32Array.of(0, 4, 6, 40, 60, 0, 0, 0, 80, 64), [2, 5]);
    const f = await session(model);
    const u = await session(uint8Entry(model, { frames: m.frames, inputRange: m.inputRange, mean: m.mean, std: m.std }));
    try {
      expect([...u.inputNames].sort()).toEqual([m.boxes.name, m.uint8.input].sort());
      const a = await f.run({ slow: new ort.Tensor('float32', slow, [1, 3, 8, h, w]), fast: new ort.Tensor('float32', fast, [1, 3, 32, h, w]), boxes });
      const b = await u.run({ [m.uint8.input]: new ort.Tensor('uint8', rgb, [1, 32, h, w, 3]), boxes });
      expect(b.probs!.dims).toEqual([2, 80]);
      expect(maxAbsDiff(b.probs!.data as Float32Array, a.probs!.data as Float32Array)).toBeLessThan(1e-5);
    } finally {
      await f.release();
      await u.release();
    }
  }, 300_000);
});
