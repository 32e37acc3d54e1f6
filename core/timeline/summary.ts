/**
 * Segments -> a video-level summary: which actions the video is about.
 *
 * Per label:
 * - `seconds` = length of the UNION of the label's segments, clipped to [0, duration]
 *   (segments of one label can overlap when the stride is shorter than a window, and the last
 *   window may run past the end of the video; neither is counted twice or past the end).
 * - `score`   = mean probability over all of the label's passing windows (the window-weighted
 *   mean of its segments' means), so `weight` = seconds x score approximates "seconds of this
 *   action, discounted by confidence". The max is per segment already; a mean here keeps one
 *   lucky window from ranking a label.
 * - `weight`  = seconds x score: the ranking key.
 * Ranked by weight, then score, then label (all descending except label), so ties are stable.
 */
import type { Segment, SummaryEntry } from '../result.ts';

export function unionSeconds(intervals: ReadonlyArray<{ start: number; end: number }>, lo: number, hi: number): number {
  const clipped = intervals
    .map((s) => ({ start: Math.max(lo, s.start), end: Math.min(hi, s.end) }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start);
  let total = 0;
  let curStart = Number.NaN;
  let curEnd = Number.NaN;
  for (const s of clipped) {
    if (Number.isNaN(curEnd) || s.start > curEnd) {
      if (!Number.isNaN(curEnd)) total += curEnd - curStart;
      curStart = s.start;
      curEnd = s.end;
    } else {
      curEnd = Math.max(curEnd, s.end);
    }
  }
  if (!Number.isNaN(curEnd)) total += curEnd - curStart;
  return total;
}

export function summarize(segments: readonly Segment[], duration: number): SummaryEntry[] {
  const byLabel = new Map<string, Segment[]>();
  for (const s of segments) {
    const list = byLabel.get(s.label);
    if (list) list.push(s);
    else byLabel.set(s.label, [s]);
  }
  const out: SummaryEntry[] = [];
  for (const [label, list] of byLabel) {
    const seconds = unionSeconds(list, 0, duration);
    const windows = list.reduce((n, s) => n + s.windows, 0);
    // min(1, ...): float rounding of a mean of probabilities must not step past 1.
    const score = Math.min(1, list.reduce((acc, s) => acc + s.mean * s.windows, 0) / windows);
    out.push({ label, seconds, score, weight: seconds * score });
  }
  return out.sort((a, b) => b.weight - a.weight || b.score - a.score || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}
