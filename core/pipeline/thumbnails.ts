/**
 * Which frame stands for each segment (pure): the middle of its best window, the window inside
 * the segment where its label scored highest. Segments of several labels at one window share the
 * frame; a long video's thumbnails are capped, best segments first. A frame time is always inside
 * the video: a window reaching past the end (a video shorter than a window) gives the middle of
 * the part of its segment the video has.
 */
import type { Segment, WindowScore } from '../result.ts';

/** Thumbnails per revision at most (each is one ffmpeg seek and a ~15 KiB object). */
export const MAX_THUMBNAILS = 300;

/** Seconds, rounded to the ms the object key uses. */
const ms = (t: number) => Math.round(t * 1000) / 1000;

/** How far before the end a frame time must be for ffmpeg to find a frame there (s). */
const END_MARGIN = 0.05;

/** The frame time of every segment that gets a thumbnail, by segment index (`duration`: the video's, when known). */
export function thumbnailTimes(segments: readonly Segment[], windows: readonly WindowScore[], max = MAX_THUMBNAILS, duration?: number): Map<number, number> {
  const inside = (s: Segment, at: number) => {
    if (duration === undefined || at < duration - END_MARGIN) return at;
    const end = Math.min(s.end, duration);
    return Math.max(0, Math.min(s.start + (end - s.start) / 2, duration - END_MARGIN));
  };
  const times = segments.map((s) => {
    let best: { p: number; at: number } | undefined;
    for (const w of windows) {
      if (w.start < s.start - 1e-6 || w.start >= s.end) continue;
      const p = w.top.find((t) => t.label === s.label)?.p;
      if (p !== undefined && (!best || p > best.p)) best = { p, at: (w.start + w.end) / 2 };
    }
    return ms(inside(s, best ? best.at : (s.start + s.end) / 2));
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

/** The thumbnail time of the best-scoring segment that has one: the video's picture in lists. */
export function coverOf(segments: readonly { score: number; thumbAt?: number | undefined }[]): number | undefined {
  let best: { score: number; thumbAt?: number | undefined } | undefined;
  for (const s of segments) if (s.thumbAt !== undefined && (!best || s.score > best.score)) best = s;
  return best?.thumbAt;
}
