/**
 * Clip planning (pure): a video's windows are split into clips of about `clipSeconds`; clip k is
 * [k*C, (k+1)*C) and owns exactly the windows whose START lies in it (the ownership rule of the
 * video issue), so the clips of a video together hold each window exactly once and can be
 * processed independently, in any order, by any worker.
 */
import { VidxError } from '../errors.ts';


export interface ClipPlan {
  index: number;
  count: number;
  /** Seconds; the clip owns the windows with start in [start, end). */
  start: number;
  end: number;
}

/**
 * @param windowStarts start times (s) of the video's windows (and keyframe times where people are
 *                     detected), ascending (at least one)
 * @param clipSeconds  clip length C (> 0)
 * Empty clips (no window starts inside) are never planned: the clip count is the number of
 * distinct k = floor(start / C) over the windows, renumbered 0..count-1.
 */
export function planClips(windowStarts: readonly number[], clipSeconds: number): ClipPlan[] {
  if (!(Number.isFinite(clipSeconds) && clipSeconds > 0)) {
    throw new VidxError('PLAN_BAD_INPUT', `clip length must be a positive number of seconds, got ${clipSeconds}`);
  }
  if (windowStarts.length === 0) throw new VidxError('PLAN_BAD_INPUT', 'a video must have at least one window to plan clips');
  const buckets = [...new Set(windowStarts.map((s) => Math.floor(s / clipSeconds)))].sort((a, b) => a - b);
  return buckets.map((k, index) => ({ index, count: buckets.length, start: k * clipSeconds, end: (k + 1) * clipSeconds }));
}

/** The windows of `all` a clip owns: start in [clip.start, clip.end). */
export function ownedBy<W extends { start: number }>(all: readonly W[], clip: Pick<ClipPlan, 'start' | 'end'>): W[] {
  return all.filter((w) => w.start >= clip.start && w.start < clip.end);
}
