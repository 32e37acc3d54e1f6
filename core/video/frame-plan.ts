/**
 * Which source frame each window frame is (pure). Implements the contract's frame rule:
 * "Frame k (k = 0..T-1) is the frame on screen at time t0 + k*r/F: the last frame whose
 * presentation time is <= that instant. Frames past the end repeat the last frame."
 */
import type { Manifest } from '../model/manifest.ts';
import type { WindowPlan } from './windows.ts';
import { frameInstants, TIME_EPS } from './windows.ts';

/**
 * Index of the frame on screen at `instant`: the last i with times[i] <= instant (+TIME_EPS, so
 * that an instant equal to a frame's time up to float rounding counts as "at or after" it).
 * Past the last frame this is the last frame (frames past the end repeat the last frame). Before the
 * first frame (an instant earlier than any presented frame; only when the stream's first frame
 * starts after its start time) it is the first frame.
 */
export function frameOnScreen(times: readonly number[], instant: number): number {
  let lo = 0;
  let hi = times.length - 1;
  if (hi < 0) throw new RangeError('no frames');
  if (times[0]! > instant + TIME_EPS) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid]! <= instant + TIME_EPS) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface FramePlan {
  /** Per window (same order as given), the index into `times` of each of its T frames. */
  frames: number[][];
  /** Sorted unique indices into `times` that any window uses: the frames to decode. */
  needed: number[];
}

export function planFrames(times: readonly number[], windows: readonly WindowPlan[], m: Pick<Manifest, 'frames' | 'samplingRate' | 'fps'>): FramePlan {
  const frames = windows.map((w) => frameInstants(w, m).map((t) => frameOnScreen(times, t)));
  const needed = [...new Set(frames.flat())].sort((a, b) => a - b);
  return { frames, needed };
}
