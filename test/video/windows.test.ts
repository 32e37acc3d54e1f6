import { describe, expect, it } from 'vitest';
import { frameOnScreen, planFrames } from '../../core/video/frame-plan.ts';
import { frameInstants, inputFrameIndices, linspaceIndices, planWindows, slowPathwayIndices, windowsInClip } from '../../core/video/windows.ts';
import { i3dManifest, slowfastManifest } from './manifests.ts';

const slowfast = slowfastManifest({ T: 32, r: 2, alpha: 4, F: 30, S: 256, C: 256 });

describe('planWindows (windows start at 0, step by the stride, default D)', () => {
  it('steps by D = T*r/F by default and keeps windows that fit', () => {
    const D = 64 / 30;
    const w = planWindows(10, slowfast);
    // 10 s / 2.1333 s: starts 0, D, 2D, 3D (ends 8.533); 4D + D = 10.67 > 10.
    expect(w.map((x) => x.index)).toEqual([0, 1, 2, 3]);
    expect(w[1]!.start).toBe(D);
    expect(w[3]!.start).toBe(3 * D);
    for (const x of w) expect(x.end).toBeCloseTo(x.start + D, 12);
  });

  it('a window that ends exactly at the end counts (float tolerance)', () => {
    const D = 64 / 30;
    expect(planWindows(3 * D, slowfast)).toHaveLength(3);
    expect(planWindows(6.4, slowfast)).toHaveLength(3);
  });

  it('a video shorter than D gets one window [0, D)', () => {
    expect(planWindows(0.5, slowfast)).toEqual([{ index: 0, start: 0, end: 64 / 30 }]);
    expect(planWindows(0, slowfast)).toHaveLength(1);
  });

  it('takes a stride', () => {
    const w = planWindows(4, slowfast, 0.5);
    // starts 0, 0.5, 1.0, 1.5 (1.5 + 2.1333 = 3.633 <= 4); 2.0 + 2.133 > 4.
    expect(w.map((x) => x.start)).toEqual([0, 0.5, 1, 1.5]);
    expect(() => planWindows(4, slowfast, 0)).toThrow(RangeError);
  });
});

describe('windowsInClip (a clip [a, b) owns the windows whose start is in [a, b))', () => {
  it('clips together give exactly the whole video’s windows, each once', () => {
    for (const [duration, stride, clip] of [
      [600, undefined, 60],
      [601.3, 0.75, 60],
      [95, 1 / 3, 10],
      [30, 64 / 30, 64 / 30], // window starts fall exactly on clip boundaries
    ] as const) {
      const all = planWindows(duration, slowfast, stride);
      const seen: number[] = [];
      for (let a = 0; a < duration; a += clip) seen.push(...windowsInClip(all, a, a + clip).map((w) => w.index));
      expect(seen).toEqual(all.map((w) => w.index));
    }
  });

  it('a window starting exactly at a boundary belongs to the later clip', () => {
    const all = [{ index: 0, start: 0, end: 2 }, { index: 1, start: 2, end: 4 }];
    expect(windowsInClip(all, 0, 2).map((w) => w.index)).toEqual([0]);
    expect(windowsInClip(all, 2, 4).map((w) => w.index)).toEqual([1]);
  });
});

describe('frame instants and pathways', () => {
  it('frame k is at t0 + k*r/F', () => {
    const m = i3dManifest({ T: 4, r: 8, F: 30 });
    expect(frameInstants({ start: 1 }, m)).toEqual([1, 1 + 8 / 30, 1 + 16 / 30, 1 + 24 / 30]);
  });

  it('slow pathway = floor(linspace(0, T-1, T/alpha)) as PyTorchVideo PackPathway (hand-computed)', () => {
    // linspace(0, 31, 8) = 0, 4.43, 8.86, 13.29, 17.71, 22.14, 26.57, 31
    expect(slowPathwayIndices(32, 4)).toEqual([0, 4, 8, 13, 17, 22, 26, 31]);
    // linspace(0, 7, 2) = 0, 7
    expect(slowPathwayIndices(8, 4)).toEqual([0, 7]);
    // linspace(0, 15, 4) = 0, 5, 10, 15 (exact values must not floor down)
    expect(slowPathwayIndices(16, 4)).toEqual([0, 5, 10, 15]);
    // linspace(0, 63, 8) = 0, 9, 18, ..., 63
    expect(slowPathwayIndices(64, 8)).toEqual([0, 9, 18, 27, 36, 45, 54, 63]);
    expect(linspaceIndices(31, 32)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(slowPathwayIndices(4, 8)).toEqual([]);
  });

  it('inputs take all T frames or the PackPathway subsample', () => {
    expect(inputFrameIndices(8, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(inputFrameIndices(32, 8)).toEqual(slowPathwayIndices(32, 4));
    expect(() => inputFrameIndices(8, 9)).toThrow(RangeError);
  });
});

describe('the frame rule: the last frame whose presentation time is <= the instant', () => {
  const times = [0, 0.04, 0.1, 0.1001, 0.5];
  it('picks the frame on screen', () => {
    expect(frameOnScreen(times, 0)).toBe(0);
    expect(frameOnScreen(times, 0.039)).toBe(0);
    expect(frameOnScreen(times, 0.04)).toBe(1);
    expect(frameOnScreen(times, 0.1)).toBe(2);
    expect(frameOnScreen(times, 0.2)).toBe(3);
  });
  it('an instant equal to a frame time up to float rounding takes that frame', () => {
    // 0.1 + 0.2 = 0.30000000000000004, a frame presented at 0.3 is on screen then, and at 0.1+0.2-1ulp.
    expect(frameOnScreen([0, 0.3], 0.1 + 0.2)).toBe(1);
    expect(frameOnScreen([0, 0.30000000000000004], 0.3)).toBe(1);
  });
  it('past the end repeats the last frame; before the first frame takes the first', () => {
    expect(frameOnScreen(times, 99)).toBe(4);
    expect(frameOnScreen([0.2, 0.3], 0)).toBe(0);
  });
  it('plans each needed frame once, even when windows overlap and frames repeat', () => {
    const m = i3dManifest({ T: 4, r: 1, F: 10 }); // frames every 0.1 s, D = 0.4
    const t = [0, 0.25, 0.5]; // a 4 fps video
    const plan = planFrames(t, [{ index: 0, start: 0, end: 0.4 }, { index: 1, start: 0.2, end: 0.6 }], m);
    // window 0 instants 0, .1, .2, .3 -> 0,0,0,1; window 1 instants .2,.3,.4,.5 -> 0,1,1,2
    expect(plan.frames).toEqual([
      [0, 0, 0, 1],
      [0, 1, 1, 2],
    ]);
    expect(plan.needed).toEqual([0, 1, 2]);
  });
});
