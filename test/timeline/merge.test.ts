import { describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import type { WindowScore } from '../../core/result.ts';
import { mergeSegments } from '../../core/timeline/index.ts';

const LABELS = ['archery', 'bowling', 'cricket', 'dancing', 'eating'];

/** Window `index` of length `len` at stride `stride`, top labels given as [label, p] best first. */
function win(index: number, top: Array<[string, number]>, stride = 2, len = stride): WindowScore {
  return {
    index,
    start: index * stride,
    end: index * stride + len,
    top: top.map(([label, p]) => ({ label, index: LABELS.indexOf(label), p })),
  };
}

const opts = { threshold: 0.2, gap: 1 };

describe('mergeSegments: one label', () => {
  it('a run with a one-window gap is one segment; the gap window is not averaged in', () => {
    const ws = [win(0, [['cricket', 0.5]]), win(1, [['cricket', 0.6]]), win(2, [['bowling', 0.9]]), win(3, [['cricket', 0.7]])];
    expect(mergeSegments(ws, opts)).toEqual([
      { label: 'cricket', start: 0, end: 8, score: 0.7, mean: (0.5 + 0.6 + 0.7) / 3, windows: 3 },
      { label: 'bowling', start: 4, end: 6, score: 0.9, mean: 0.9, windows: 1 },
    ]);
  });

  it('two non-passing windows break the run at gap 1, not at gap 2', () => {
    const ws = [win(0, [['cricket', 0.5]]), win(1, [['cricket', 0.3]]), win(2, []), win(3, []), win(4, [['cricket', 0.4]])];
    expect(mergeSegments(ws, opts)).toEqual([
      { label: 'cricket', start: 0, end: 4, score: 0.5, mean: 0.4, windows: 2 },
      { label: 'cricket', start: 8, end: 10, score: 0.4, mean: 0.4, windows: 1 },
    ]);
    expect(mergeSegments(ws, { threshold: 0.2, gap: 2 })).toEqual([
      { label: 'cricket', start: 0, end: 10, score: 0.5, mean: (0.5 + 0.3 + 0.4) / 3, windows: 3 },
    ]);
  });

  it('gap 0 needs consecutive windows', () => {
    const ws = [win(0, [['cricket', 0.5]]), win(1, []), win(2, [['cricket', 0.5]])];
    expect(mergeSegments(ws, { threshold: 0.2, gap: 0 }).map((s) => [s.start, s.end])).toEqual([[0, 2], [4, 6]]);
    expect(mergeSegments(ws, { threshold: 0.2, gap: 1 }).map((s) => [s.start, s.end])).toEqual([[0, 6]]);
  });

  it('a label in the top-k but below threshold does not pass; p == threshold passes', () => {
    const ws = [win(0, [['cricket', 0.2]]), win(1, [['cricket', 0.19]]), win(2, [['cricket', 0.19]]), win(3, [['cricket', 0.25]])];
    expect(mergeSegments(ws, opts)).toEqual([
      { label: 'cricket', start: 0, end: 2, score: 0.2, mean: 0.2, windows: 1 },
      { label: 'cricket', start: 6, end: 8, score: 0.25, mean: 0.25, windows: 1 },
    ]);
  });

  it('runs touching both ends of the video; non-passing windows at the ends never extend a segment', () => {
    const ws = [win(0, [['cricket', 0.9]]), win(1, [['cricket', 0.8]]), win(2, []), win(3, []), win(4, []), win(5, [['cricket', 0.6]])];
    expect(mergeSegments(ws, opts).map((s) => [s.start, s.end, s.windows])).toEqual([[0, 4, 2], [10, 12, 1]]);
    const inner = [win(0, []), win(1, [['cricket', 0.9]]), win(2, [])];
    expect(mergeSegments(inner, opts).map((s) => [s.start, s.end])).toEqual([[2, 4]]);
  });

  it('a window missing from the input counts as not passing (gap counted in window indices)', () => {
    const ws = [win(0, [['cricket', 0.5]]), win(3, [['cricket', 0.5]])];
    expect(mergeSegments(ws, opts)).toHaveLength(2);
    expect(mergeSegments(ws, { threshold: 0.2, gap: 2 })).toHaveLength(1);
  });

  it('input order does not matter: windows are taken in index order', () => {
    const ws = [win(0, [['cricket', 0.5]]), win(1, [['cricket', 0.6]]), win(2, [['cricket', 0.7]])];
    expect(mergeSegments([ws[2]!, ws[0]!, ws[1]!], opts)).toEqual(mergeSegments(ws, opts));
  });

  it('no windows, or nothing passing, gives no segments', () => {
    expect(mergeSegments([], opts)).toEqual([]);
    expect(mergeSegments([win(0, [['cricket', 0.1]])], opts)).toEqual([]);
  });
});

describe('mergeSegments: several labels', () => {
  it('labels are merged independently and ordered by start, then score, then label', () => {
    const ws = [
      win(0, [['cricket', 0.6], ['bowling', 0.3]]),
      win(1, [['bowling', 0.5], ['cricket', 0.25]]),
      win(2, [['dancing', 0.8]]),
      win(3, [['dancing', 0.7], ['bowling', 0.21]]),
    ];
    expect(mergeSegments(ws, opts)).toEqual([
      { label: 'cricket', start: 0, end: 4, score: 0.6, mean: (0.6 + 0.25) / 2, windows: 2 },
      { label: 'bowling', start: 0, end: 8, score: 0.5, mean: (0.3 + 0.5 + 0.21) / 3, windows: 3 },
      { label: 'dancing', start: 4, end: 8, score: 0.8, mean: 0.75, windows: 2 },
    ]);
  });

  it('tied probabilities give one segment per label, tie broken by label name', () => {
    const ws = [win(0, [['eating', 0.4], ['archery', 0.4]]), win(1, [['archery', 0.4], ['eating', 0.4]])];
    expect(mergeSegments(ws, opts)).toEqual([
      { label: 'archery', start: 0, end: 4, score: 0.4, mean: 0.4, windows: 2 },
      { label: 'eating', start: 0, end: 4, score: 0.4, mean: 0.4, windows: 2 },
    ]);
  });

  it('threshold 0 (untrained models): every top-k label forms segments', () => {
    const ws = [win(0, [['cricket', 0.003], ['bowling', 0.0029]]), win(1, [['bowling', 0.003], ['eating', 0.0028]])];
    expect(mergeSegments(ws, { threshold: 0, gap: 1 }).map((s) => [s.label, s.start, s.end])).toEqual([
      // same start, same max (0.003): by label
      ['bowling', 0, 4],
      ['cricket', 0, 2],
      ['eating', 2, 4],
    ]);
  });
});

describe('mergeSegments: overlapping windows (stride shorter than a window)', () => {
  it('a segment spans first start to last end; gaps still count in windows', () => {
    // stride 1 s, windows 2 s long: [0,2) [1,3) [2,4) [3,5) [4,6) [5,7) [6,8)
    const ws = [
      win(0, [['cricket', 0.5]], 1, 2),
      win(1, [['cricket', 0.7]], 1, 2),
      win(2, [], 1, 2),
      win(3, [['cricket', 0.3]], 1, 2),
      win(4, [], 1, 2),
      win(5, [], 1, 2),
      win(6, [['cricket', 0.9]], 1, 2),
    ];
    expect(mergeSegments(ws, opts)).toEqual([
      { label: 'cricket', start: 0, end: 5, score: 0.7, mean: 0.5, windows: 3 },
      { label: 'cricket', start: 6, end: 8, score: 0.9, mean: 0.9, windows: 1 },
    ]);
  });
});

describe('mergeSegments: top-k storage is exact above 1/(k+1)', () => {
  /** Seeded PRNG (mulberry32) so the case is reproducible. */
  function rng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('merging top-5 windows equals merging the full distributions at threshold 0.17 > 1/6', () => {
    const rand = rng(7);
    const full: WindowScore[] = [];
    const top5: WindowScore[] = [];
    for (let i = 0; i < 300; i++) {
      // Peaky distributions over the 5 labels plus 45 others, so labels often cross 0.17.
      const raw = Array.from({ length: 50 }, (_, j) => Math.exp((j < 5 ? 4 : 0) * rand() * 2));
      const z = raw.reduce((a, b) => a + b, 0);
      const scores = raw.map((r, j) => ({ label: j < 5 ? LABELS[j]! : `other${j}`, index: j, p: r / z }));
      scores.sort((a, b) => b.p - a.p);
      full.push({ index: i, start: i, end: i + 1, top: scores });
      top5.push({ index: i, start: i, end: i + 1, top: scores.slice(0, 5) });
    }
    const a = mergeSegments(full, { threshold: 0.17, gap: 1 });
    expect(a.length).toBeGreaterThan(10);
    expect(mergeSegments(top5, { threshold: 0.17, gap: 1 })).toEqual(a);
  });
});

describe('mergeSegments: bad input', () => {
  it('rejects a threshold outside [0, 1] and a fractional or negative gap', () => {
    for (const bad of [{ threshold: 1.5, gap: 1 }, { threshold: -0.1, gap: 1 }, { threshold: Number.NaN, gap: 1 }, { threshold: 0.2, gap: 0.5 }, { threshold: 0.2, gap: -1 }]) {
      let err: unknown;
      try {
        mergeSegments([], bad);
      } catch (e) {
        err = e;
      }
      expect(isVidxError(err, 'TIMELINE_BAD_OPTIONS')).toBe(true);
    }
  });

  it('rejects a window scored twice', () => {
    expect(() => mergeSegments([win(1, []), win(1, [])], opts)).toThrow(expect.objectContaining({ code: 'TIMELINE_BAD_WINDOWS' }));
  });
});
