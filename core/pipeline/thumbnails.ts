/**
 * Which frame stands for each segment (pure): the middle of its best window, the window inside
 * the segment where its label scored highest. Segments of several labels at one window share the
 * frame; a long video's thumbnails are capped, best segments first.
 */
import type { Segment, WindowScore } from '../result.ts';

/** Thumbnails per revision at most (each is one ffmpeg seek and a ~15 KiB object). */
export const MAX_THUMBNAILS = 300;

/** Seconds, rounded to the ms the object key uses. */
const ms = (t: number) => Math.round(t * 1000) / 1000;

/** The frame time of every segment that gets a thumbnail, by segment index. */
export function thumbnailTimes(segments: readonly Segment[], windows: readonly WindowScore[], max = MAX_THUMBNAILS): Map<number, number> {
  const times = segments.map((s) => {
    let best: { p: number; at: number } | undefined;
    for (const w of windows) {
      if (w.start < s.start - 1e-6 || w.start >= s.end) continue;
      const p = w.top.find((t) => t.label === s.label)?.p;
      if (p !== undefined && (!best || p > best.p)) best = { p, at: (w.start + w.end) / 2 };
    }
    return ms(best ? best.at : (s.start + s.end) / 2);
  });
  const order = segments.map((_, i) => i).sort((a, b) => segments[b]!.score - segments[a]!.score || a - b);
  const chosen = new Map<number, number>();
  const frames = new Set<number>();
  for (const i of order) {
    const at = times[i]!;
    if (!frames.has(at) && frames.size >= max) continue;
    frames.add(at);
    chosen.set(i, at);
  }
  return chosen;
}
