/** Where `analyze --annotate` draws its labels (core/detection/annotate.ts), pure. */
import { describe, expect, it } from 'vitest';
import { fitLabel, labelSize, layoutLabels } from '../../core/detection/annotate.ts';

const W = 640;
const H = 360;
const overlap = (a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe('layoutLabels', () => {
  it('puts a label above its box where it fits, else inside its top', () => {
    const size = { w: 100, h: 20 };
    const [above, inside] = layoutLabels([{ x: 50, y: 100, w: 80, h: 120 }, { x: 300, y: 5, w: 80, h: 120 }], [size, size], W, H, 2);
    expect(above).toEqual({ x: 50, y: 78 });
    expect(inside).toEqual({ x: 300, y: 7 });
  });

  it('never lets twenty labels of overlapping people pile up, nor leave the frame', () => {
    const boxes = Array.from({ length: 20 }, (_, i) => ({ x: 600 - i, y: 150 + i, w: 60, h: 100 }));
    const sizes = boxes.map(() => labelSize('7 stand 0.95, talk to 0.80', 14, 2));
    const spots = layoutLabels(boxes, sizes, W, H, 2);
    const rects = spots.map((s, i) => ({ ...s, ...sizes[i]! }));
    for (const r of rects) {
      expect(r.x).toBeGreaterThanOrEqual(0);
      expect(r.y).toBeGreaterThanOrEqual(0);
      expect(r.x + r.w).toBeLessThanOrEqual(W);
      expect(r.y + r.h).toBeLessThanOrEqual(H);
    }
    // The labels that fit between the first one and the frame's bottom are stacked apart, in order.
    const fit = Math.floor((H - rects[0]!.y) / sizes[0]!.h);
    expect(fit).toBe(12);
    const stacked = rects.slice(0, fit);
    for (const [i, r] of stacked.entries()) for (const o of stacked.slice(i + 1)) expect(overlap(r, o)).toBe(false);
  });
});

describe('fitLabel', () => {
  it('cuts a label wider than the frame, with an ellipsis', () => {
    expect(fitLabel('1 stand 0.90', 640, 12, 2)).toBe('1 stand 0.90');
    const cut = fitLabel('1 '.padEnd(200, 'x'), 120, 12, 2);
    expect(cut.endsWith('…')).toBe(true);
    expect(labelSize(cut, 12, 2).w).toBeLessThanOrEqual(120);
  });
});
