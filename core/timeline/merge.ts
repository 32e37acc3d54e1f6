/**
 * Windows -> segments (issue 3, "Inference and timeline").
 *
 * Rules, per label, over the windows in index order:
 * - A window PASSES for a label when the label is in the window's top-k with p >= threshold.
 *   A label absent from a window's top-k counts as below threshold. That is exact (no segment
 *   is lost by keeping only k labels per window) whenever threshold > 1/(k+1): if a label L is
 *   not in the top k, k other labels each have p >= p_L, so (k+1) * p_L <= sum(p) = 1 and
 *   p_L <= 1/(k+1) < threshold. At threshold == 1/(k+1) it is exact except for the
 *   measure-zero case of k+1 labels tied at exactly 1/(k+1). Below that (e.g. the threshold 0
 *   used for untrained models) the rule is simply "the label is in the window's top k".
 * - A segment is a maximal run of passing windows in which two consecutive passing windows are
 *   separated by at most `gap` non-passing windows (the gap is counted in window indices, so a
 *   window missing from the input counts as not passing).
 * - A segment spans the start of its first passing window to the end of its last passing
 *   window: trailing or leading non-passing windows never extend it.
 * - `score` is the max probability over the passing windows; `mean` is the mean probability
 *   over the passing windows only (gap windows are not averaged in: their probability is not
 *   known when the label fell out of the top k); `windows` counts the passing windows.
 * Segments come out ordered by start, then by score (best first), then by label.
 */
import { VidxError } from '../errors.ts';
import type { Segment, TimelineOptions, WindowScore } from '../result.ts';
import { TimelineOptionsSchema } from '../result.ts';


/** The merge only reads threshold and gap; stride and topK describe how the windows were made. */
export type MergeOptions = Pick<TimelineOptions, 'threshold' | 'gap'>;

export function checkTimelineOptions(opts: TimelineOptions): TimelineOptions {
  const parsed = TimelineOptionsSchema.safeParse(opts);
  if (!parsed.success) {
    const what = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new VidxError('TIMELINE_BAD_OPTIONS', `bad timeline options (${what})`, {
      hint: 'threshold is a probability in [0, 1], gap a whole number of windows >= 0, top-k >= 1, stride > 0 seconds',
    });
  }
  return parsed.data;
}

interface Run {
  label: string;
  first: WindowScore;
  last: WindowScore;
  max: number;
  sum: number;
  count: number;
}

function toSegment(r: Run): Segment {
  return { label: r.label, start: r.first.start, end: r.last.end, score: r.max, mean: r.sum / r.count, windows: r.count };
}

export function compareSegments(a: Segment, b: Segment): number {
  return a.start - b.start || b.score - a.score || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
}

export function mergeSegments(windows: readonly WindowScore[], opts: MergeOptions): Segment[] {
  checkMergeOptions(opts);
  const ordered = [...windows].sort((a, b) => a.index - b.index);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i]!.index === ordered[i - 1]!.index) {
      throw new VidxError('TIMELINE_BAD_WINDOWS', `window ${ordered[i]!.index} appears twice`, {
        hint: 'each window must be scored once; merge the clips of one video without duplicates',
      });
    }
  }
  const open = new Map<string, Run>();
  const done: Segment[] = [];
  for (const w of ordered) {
    const seen = new Set<string>();
    for (const s of w.top) {
      if (s.p < opts.threshold || seen.has(s.label)) continue;
      seen.add(s.label);
      const run = open.get(s.label);
      if (run && w.index - run.last.index - 1 <= opts.gap) {
        run.last = w;
        run.max = Math.max(run.max, s.p);
        run.sum += s.p;
        run.count += 1;
      } else {
        if (run) done.push(toSegment(run));
        open.set(s.label, { label: s.label, first: w, last: w, max: s.p, sum: s.p, count: 1 });
      }
    }
  }
  for (const run of open.values()) done.push(toSegment(run));
  return done.sort(compareSegments);
}

function checkMergeOptions(opts: MergeOptions): void {
  const okThreshold = Number.isFinite(opts.threshold) && opts.threshold >= 0 && opts.threshold <= 1;
  const okGap = Number.isInteger(opts.gap) && opts.gap >= 0;
  if (!okThreshold || !okGap) {
    throw new VidxError('TIMELINE_BAD_OPTIONS', `bad timeline options (threshold ${opts.threshold}, gap ${opts.gap})`, {
      hint: 'threshold is a probability in [0, 1] and gap a whole number of windows >= 0',
    });
  }
}
