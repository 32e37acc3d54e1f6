import { describe, expect, it } from 'vitest';
import { MAX_THUMBNAILS, thumbnailTimes } from '../../core/pipeline/thumbnails.ts';
import type { Segment, WindowScore } from '../../core/result.ts';

const win = (index: number, top: [string, number][]): WindowScore => ({
  index,
  start: index * 2,
  end: index * 2 + 2,
  top: top.map(([label, p], i) => ({ label, index: i, p })),
});
const seg = (label: string, start: number, end: number, score: number): Segment => ({ label, start, end, score, mean: score, windows: 1 });

describe('thumbnail frames', () => {
  const windows = [win(0, [['run', 0.5]]), win(1, [['run', 0.9], ['jump', 0.2]]), win(2, [['run', 0.6], ['jump', 0.7]])];

  it('takes the middle of the window where the segment\'s label scored best', () => {
    const t = thumbnailTimes([seg('run', 0, 6, 0.9), seg('jump', 2, 6, 0.7)], windows);
    expect(t.get(0)).toBe(3); // window 1 (2..4 s), p 0.9
    expect(t.get(1)).toBe(5); // window 2 (4..6 s), p 0.7
  });

  it('looks only at windows inside the segment, and falls back to its middle', () => {
    expect(thumbnailTimes([seg('run', 4, 6, 0.6)], windows).get(0)).toBe(5);
    expect(thumbnailTimes([seg('swim', 0, 3, 0.1)], windows).get(0)).toBe(1.5);
  });

  it('shares one frame between segments of one window and caps distinct frames, best segments first', () => {
    const many = Array.from({ length: 5 }, (_, i) => seg(`a${i}`, i * 2, i * 2 + 2, i / 10));
    const t = thumbnailTimes(many, [], 2);
    expect([...t.keys()].sort()).toEqual([3, 4]); // the two best scores
    const same = thumbnailTimes([seg('run', 2, 4, 0.9), seg('jump', 2, 4, 0.2)], windows, 1);
    expect([...same.values()]).toEqual([3, 3]); // one frame, two segments
    expect(MAX_THUMBNAILS).toBeGreaterThan(100);
  });
});
