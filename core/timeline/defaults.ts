/**
 * Default timeline options, and why.
 *
 * - stride = one window (T*r/F seconds: 2.13 s for SlowFast 8x8 and I3D 8x8 at 30 fps): every
 *   instant of the video is seen by exactly one window, the cheapest full coverage; a smaller
 *   stride buys time resolution at a proportional inference cost (pass --stride for it).
 * - topK = 5: Kinetics-400 is reported as top-1/top-5, and it makes the merge exact for any
 *   threshold > 1/6 (see merge.ts), while a window record stays small (5 labels, not 400).
 * - threshold = 0.2 (trained models): above 1/6 so top-5 storage loses nothing; a Kinetics-400
 *   softmax puts most of its mass on one or two labels when an action is clearly present, so
 *   0.2 keeps real actions and drops the long tail of labels sharing the remaining mass.
 * - gap = 1 window: one window's dropout (a cut, occlusion, a camera pan; ~2 s) does not split
 *   an action in two, while two missing windows (> 4 s) do end it.
 *
 * UNTRAINED models (synthetic weights, `trained: false`): their softmax is close to uniform
 * (p ~ 1/400 = 0.0025), so any fixed threshold that makes sense for a trained model would hide
 * everything and make the pipeline look broken. The explicit behaviour: threshold 0, so each
 * window's top-k labels form segments. That shows the pipeline working end to end; the
 * labels mean nothing, and every output (CLI text, JSON `model.trained`) says so.
 */
import type { Manifest } from '../model/manifest.ts';
import { windowSeconds } from '../model/manifest.ts';
import type { TimelineOptions } from '../result.ts';

export const DEFAULT_TOP_K = 5;
export const DEFAULT_THRESHOLD = 0.2;
export const UNTRAINED_THRESHOLD = 0;
export const DEFAULT_GAP = 1;

export function defaultTimelineOptions(manifest: Pick<Manifest, 'frames' | 'samplingRate' | 'fps'>, trained: boolean): TimelineOptions {
  return {
    stride: windowSeconds(manifest),
    threshold: trained ? DEFAULT_THRESHOLD : UNTRAINED_THRESHOLD,
    gap: DEFAULT_GAP,
    topK: DEFAULT_TOP_K,
  };
}
