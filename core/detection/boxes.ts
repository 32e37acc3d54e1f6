/**
 * Box geometry between the three frames a person box lives in: the detector's input (the frame
 * scaled as torchvision's GeneralizedRCNNTransform does, then padded to a multiple of 32), the
 * stored fractions of the displayed frame, and the action model's input (short side 256, whole
 * frame). Pure arithmetic.
 */
import type { Box } from './schema.ts';

export interface Size {
  width: number;
  height: number;
}

/**
 * torchvision's resize for detection: one scale s = min(minSize / short side, maxSize / long side)
 * for both axes, output floor(side * s) (interpolate with recompute_scale_factor), then the batch
 * is padded at the right and bottom to a multiple of `divisible`.
 */
export function detectorInputSize(frame: Size, minSize: number, maxSize: number, divisible = 32): { scaled: Size; padded: Size } {
  const short = Math.min(frame.width, frame.height);
  const long = Math.max(frame.width, frame.height);
  const s = Math.min(minSize / short, maxSize / long);
  const scaled = { width: Math.floor(frame.width * s), height: Math.floor(frame.height * s) };
  const up = (v: number) => Math.ceil(v / divisible) * divisible;
  return { scaled, padded: { width: up(scaled.width), height: up(scaled.height) } };
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * A box in pixels of a frame of `size` as fractions, clamped to the frame: detections that run past
 * the edge (or into the detector's zero padding) are cut at the frame's border.
 */
export function toFractions(pixels: readonly number[], size: Size): Box {
  const [x1 = 0, y1 = 0, x2 = 0, y2 = 0] = pixels;
  const a = [clamp01(x1 / size.width), clamp01(y1 / size.height), clamp01(x2 / size.width), clamp01(y2 / size.height)];
  return [Math.min(a[0]!, a[2]!), Math.min(a[1]!, a[3]!), Math.max(a[0]!, a[2]!), Math.max(a[1]!, a[3]!)];
}

/** Fractions to pixels of a frame of `size` (the action model's input): x1, y1, x2, y2. */
export function toPixels(box: Box, size: Size): [number, number, number, number] {
  return [box[0] * size.width, box[1] * size.height, box[2] * size.width, box[3] * size.height];
}

export function area(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/** Intersection over union; 0 when both boxes are empty. */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}
