/** ../shared/reference/{slowfast_r50_detection,fasterrcnn_resnet50_fpn_v2}.json and comparisons on them. */
import { readFileSync } from 'node:fs';

/** A large tensor as the reference summarizes it: shape, sum, sum of squares, every sampleStride-th value. */
export interface TensorSummary {
  shape: number[];
  sum: number;
  sumSq: number;
  sampleStride: number;
  samples: number[];
}

export interface ActionDetectorGolden {
  keys: Array<[string, number[]]>;
  inputs: Record<string, number[]>;
  boxes: number[][];
  probs: number[][];
}

export interface PersonDetectorGolden {
  keys: Array<[string, number[]]>;
  input: { name: string; shape: number[] };
  features: Record<string, TensorSummary>;
  rpnHead: { objectness: TensorSummary[]; bboxDeltas: TensorSummary[] };
  proposals: { count: number; first20: number[][] };
  boxHead: { proposals: number[][]; classLogits: number[][]; boxRegression: number[][] };
  detections: { count: number; boxes: number[][]; scores: number[]; labels: number[] };
}

function read<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`../../../shared/reference/${file}`, import.meta.url), 'utf8')) as T;
}

export const readActionDetectorGolden = () => read<ActionDetectorGolden>('slowfast_r50_detection.json');
export const readPersonDetectorGolden = () => read<PersonDetectorGolden>('fasterrcnn_resnet50_fpn_v2.json');

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** How far `data` is from a summary: relative error of sum and sum of squares, worst sample. */
export function summaryError(data: Float32Array, s: TensorSummary): { sum: number; sumSq: number; sample: number } {
  let sum = 0;
  let sumSq = 0;
  for (const v of data) {
    sum += v;
    sumSq += v * v;
  }
  const sample = s.samples.reduce((m, v, k) => Math.max(m, Math.abs(data[k * s.sampleStride]! - v)), 0);
  return { sum: Math.abs(sum - s.sum) / Math.max(1, Math.sqrt(s.sumSq)), sumSq: Math.abs(sumSq - s.sumSq) / s.sumSq, sample };
}

/**
 * For each expected row, the distance (max over its values) to the nearest row of `rows`:
 * set comparison, order-free, since near-equal scores may reorder.
 */
export function nearestRowDistances(rows: Float32Array, width: number, expected: readonly number[][]): number[] {
  const n = rows.length / width;
  return expected.map((want) => {
    let best = Infinity;
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let j = 0; j < width; j++) d = Math.max(d, Math.abs(rows[i * width + j]! - want[j]!));
      best = Math.min(best, d);
    }
    return best;
  });
}
