import { describe, expect, it } from 'vitest';
import {
  BIAS_TABLE_ROWS,
  TPS_FRAMES,
  WINDOW_TOKENS,
  inverseOrder,
  patchShift,
  relativePositionIndex,
  shiftedWindowMask,
  windowOrder,
} from '../../models/arch/tps-shifts.ts';

const FRAMES = TPS_FRAMES;
/** Natural token index of (frame, row, column) on a size x size map. */
const token = (size: number, d: number, h: number, w: number): number => (d * size + h) * size + w;
/** Window-order position of (frame, window row, window column, in-window row, in-window column). */
const position = (size: number, d: number, a: number, b: number, i: number, j: number): number => {
  const cols = size / 7;
  return (((d * cols + a) * cols + b) * 7 + i) * 7 + j;
};

describe('Pattern C (the temporal patch shift)', () => {
  it('rolls each in-window position by its (row % 3, column % 3) offset and keeps the centre of each 3x3 cell', () => {
    expect([0, 1, 2].map((j) => patchShift(0, j))).toEqual([-4, 1, 2]);
    expect([0, 1, 2].map((j) => patchShift(1, j))).toEqual([-1, 0, 3]);
    expect([0, 1, 2].map((j) => patchShift(2, j))).toEqual([-2, -3, 4]);
    expect(patchShift(6, 5)).toBe(patchShift(0, 2));
  });
});

describe('windowOrder', () => {
  it('is window_partition alone in a TSM block: frame, window row, window column, then row-major inside', () => {
    const order = windowOrder({ frames: FRAMES, height: 14, width: 14, shift: 0, patchShifted: false });
    expect(order[position(14, 0, 0, 0, 0, 0)]).toBe(token(14, 0, 0, 0));
    expect(order[position(14, 0, 0, 0, 0, 6)]).toBe(token(14, 0, 0, 6));
    expect(order[position(14, 0, 0, 1, 0, 0)]).toBe(token(14, 0, 0, 7));
    expect(order[position(14, 3, 1, 0, 2, 4)]).toBe(token(14, 3, 9, 4));
  });

  it('reads the token the cyclic shift by -3 and the patch shift bring to each window position in a PSM block', () => {
    const order = windowOrder({ frames: FRAMES, height: 14, width: 14, shift: 3, patchShifted: true });
    // (0, 0) in the window rolls by -4: frame 0 reads frame 4; the roll by -3 reads row/column 3.
    expect(order[position(14, 0, 0, 0, 0, 0)]).toBe(token(14, 4, 3, 3));
    // (1, 1) is a centre: same frame. The last window wraps around to rows/columns 0..2, and its (6, 6) rolls by -4.
    expect(order[position(14, 5, 1, 1, 1, 1)]).toBe(token(14, 5, 11, 11));
    expect(order[position(14, 5, 1, 1, 6, 6)]).toBe(token(14, 9, 2, 2));
    // (0, 1) rolls by +1: frame 0 reads the last frame (the roll is cyclic).
    expect(order[position(14, 0, 0, 0, 0, 1)]).toBe(token(14, FRAMES - 1, 3, 4));
  });

  it('is a permutation whose inverse undoes it', () => {
    const order = windowOrder({ frames: FRAMES, height: 28, width: 28, shift: 3, patchShifted: true });
    const inverse = inverseOrder(order);
    expect(new Set(order).size).toBe(order.length);
    expect(order.every((source, p) => inverse[source] === p)).toBe(true);
  });
});

describe('relativePositionIndex', () => {
  const side = 13;
  const entry = (index: BigInt64Array, f: number, n1: number, n2: number): number => Number(index[(f * WINDOW_TOKENS + n1) * WINDOW_TOKENS + n2]);

  it('pairs query frame f with key frame 0 in plain coordinates (relative_position_index_old)', () => {
    const old = relativePositionIndex(false);
    expect(old.length).toBe(FRAMES * WINDOW_TOKENS * WINDOW_TOKENS);
    // query (f=2, row 1, col 0) vs key (frame 0, row 0, col 3): (2 + 15) * 169 + (1 + 6) * 13 + (-3 + 6)
    expect(entry(old, 2, 7, 3)).toBe(17 * side * side + 7 * side + 3);
  });

  it('uses each patch-shifted token\'s source frame (relative_position_index)', () => {
    const shifted = relativePositionIndex(true);
    // query (f=0, (0,0)) comes from frame 4; key (frame 0, (1,1)) stays in frame 0.
    expect(entry(shifted, 0, 0, 8)).toBe((4 + 15) * side * side + (-1 + 6) * side + (-1 + 6));
    // key (frame 0, (0,1)) comes from frame 15 (roll +1).
    expect(entry(shifted, 0, 8, 1)).toBe((0 - 15 + 15) * side * side + (1 + 6) * side + (1 - 1 + 6));
  });

  it('stays inside the bias table', () => {
    for (const index of [relativePositionIndex(true), relativePositionIndex(false)]) {
      let min = Infinity;
      let max = -Infinity;
      for (const v of index) {
        min = Math.min(min, Number(v));
        max = Math.max(max, Number(v));
      }
      expect(min).toBeGreaterThanOrEqual(0);
      expect(max).toBeLessThan(BIAS_TABLE_ROWS);
    }
  });
});

describe('shiftedWindowMask', () => {
  const at = (mask: Float32Array, w: number, n1: number, n2: number): number => mask[(w * WINDOW_TOKENS + n1) * WINDOW_TOKENS + n2]!;

  it('masks nothing inside windows the cyclic shift left whole', () => {
    const mask = shiftedWindowMask(14, 14, 3);
    expect(mask.subarray(0, WINDOW_TOKENS * WINDOW_TOKENS).every((v) => v === 0)).toBe(true);
  });

  it('masks (-100) pairs the shift brought together from different regions, in the last row and column of windows', () => {
    const mask = shiftedWindowMask(14, 14, 3);
    // Window (0, 1): columns 7..13; columns 7..10 and 11..13 are different regions.
    expect(at(mask, 1, 0, 3)).toBe(0);
    expect(at(mask, 1, 0, 4)).toBe(-100);
    // Window (1, 1): four regions; (0,0) vs (6,6) differ, (4,4) vs (6,6) are both in the wrapped corner.
    expect(at(mask, 3, 0, 48)).toBe(-100);
    expect(at(mask, 3, 32, 48)).toBe(0);
  });
});
