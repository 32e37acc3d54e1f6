import { describe, expect, it } from 'vitest';
import type { Segment } from '../../core/result.ts';
import { defaultTimelineOptions, summarize, unionSeconds } from '../../core/timeline/index.ts';

function seg(label: string, start: number, end: number, mean: number, windows: number, score = mean): Segment {
  return { label, start, end, score, mean, windows };
}

describe('unionSeconds', () => {
  it('counts overlapping intervals once and clips to [lo, hi]', () => {
    expect(unionSeconds([{ start: 0, end: 4 }, { start: 3, end: 6 }, { start: 10, end: 12 }], 0, 100)).toBe(8);
    expect(unionSeconds([{ start: 0, end: 4 }, { start: 1, end: 2 }], 0, 100)).toBe(4);
    expect(unionSeconds([{ start: 8, end: 12 }], 0, 10)).toBe(2);
    expect(unionSeconds([{ start: 12, end: 14 }], 0, 10)).toBe(0);
    expect(unionSeconds([], 0, 10)).toBe(0);
    // touching intervals join without double counting
    expect(unionSeconds([{ start: 2, end: 4 }, { start: 0, end: 2 }], 0, 10)).toBe(4);
  });
});

describe('summarize', () => {
  it('ranks labels by covered seconds x window-weighted mean probability', () => {
    const segments = [
      // cricket: [0,4) and [3,9) overlap -> 9 s covered; mean (0.5*2 + 0.8*3) / 5 = 0.68; weight 6.12
      seg('cricket', 0, 4, 0.5, 2, 0.6),
      seg('cricket', 3, 9, 0.8, 3, 0.9),
      // dancing: 4 s at 0.9 -> weight 3.6
      seg('dancing', 10, 14, 0.9, 2),
      // bowling: 12 s at 0.25 -> weight 3 (longest, but least confident)
      seg('bowling', 0, 12, 0.25, 6),
    ];
    const out = summarize(segments, 20);
    expect(out.map((e) => e.label)).toEqual(['cricket', 'dancing', 'bowling']);
    expect(out[0]!.seconds).toBe(9);
    expect(out[0]!.score).toBeCloseTo(0.68, 12);
    expect(out[0]!.weight).toBeCloseTo(6.12, 12);
    expect(out[1]).toEqual({ label: 'dancing', seconds: 4, score: 0.9, weight: 3.6 });
    expect(out[2]).toEqual({ label: 'bowling', seconds: 12, score: 0.25, weight: 3 });
  });

  it('does not count time past the end of the video (the last window may run over)', () => {
    const out = summarize([seg('cricket', 8, 12.8, 0.5, 2)], 10);
    expect(out).toEqual([{ label: 'cricket', seconds: 2, score: 0.5, weight: 1 }]);
  });

  it('breaks equal weights by score, then by label', () => {
    const out = summarize([seg('b', 0, 2, 0.5, 1), seg('a', 0, 2, 0.5, 1), seg('c', 0, 4, 0.25, 2)], 10);
    // all weigh 1: b and a score 0.5 (a before b by name), c scores 0.25
    expect(out.map((e) => [e.label, e.weight])).toEqual([['a', 1], ['b', 1], ['c', 1]]);
  });

  it('no segments, no summary', () => {
    expect(summarize([], 10)).toEqual([]);
  });
});

describe('defaultTimelineOptions', () => {
  const slowfast = { frames: 32, samplingRate: 2, fps: 30 };
  it('trained: one-window stride, top 5, threshold 0.2 (> 1/6, so top-5 storage is exact), gap 1', () => {
    expect(defaultTimelineOptions(slowfast, true)).toEqual({ stride: 64 / 30, threshold: 0.2, gap: 1, topK: 5 });
    expect(0.2).toBeGreaterThan(1 / 6);
  });
  it('untrained: threshold 0, so the top-k labels form segments instead of nothing passing', () => {
    expect(defaultTimelineOptions({ frames: 8, samplingRate: 8, fps: 30 }, false)).toEqual({ stride: 64 / 30, threshold: 0, gap: 1, topK: 5 });
  });
});
