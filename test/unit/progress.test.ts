/** A revision's window progress and ETA (core/pipeline/progress.ts), pure. */
import { describe, expect, it } from 'vitest';
import { throttledReporter, unitsPerClip, windowProgress } from '../../core/pipeline/progress.ts';

const T0 = Date.parse('2026-12-04T10:00:00.000Z');

describe('windowProgress', () => {
  it('counts done clips in full and running clips by their reported units, with the ETA at the rate so far', () => {
    const p = windowProgress({ status: 'processing', clipUnits: [10, 10, 5], clipWindows: { '1': 5 }, doneClips: [0], workStartedAt: new Date(T0).toISOString() }, T0 + 30_000);
    // 15 of 25 in 30 s: 10 left at 0.5 per second.
    expect(p).toEqual({ windowsDone: 15, windowsTotal: 25, etaSeconds: 20 });
  });

  it('never counts more units for a clip than it owns, nor a done clip twice', () => {
    const p = windowProgress({ status: 'processing', clipUnits: [4, 4], clipWindows: { '0': 9, '1': 2 }, doneClips: [0, 0], workStartedAt: new Date(T0).toISOString() }, T0 + 6_000);
    expect(p?.windowsDone).toBe(6);
    expect(p?.windowsTotal).toBe(8);
  });

  it('has no ETA before a unit is scored, none for a failed video, and 0 once indexed', () => {
    const base = { clipUnits: [3, 3], doneClips: [] as number[], workStartedAt: new Date(T0).toISOString() };
    expect(windowProgress({ ...base, status: 'queued' }, T0)).toEqual({ windowsDone: 0, windowsTotal: 6, etaSeconds: null });
    expect(windowProgress({ ...base, status: 'failed', clipWindows: { '0': 2 } }, T0 + 1000)?.etaSeconds).toBeNull();
    expect(windowProgress({ ...base, status: 'indexed' }, T0)).toEqual({ windowsDone: 6, windowsTotal: 6, etaSeconds: 0 });
  });

  it('is absent for a record made before units were recorded', () => {
    expect(windowProgress({ status: 'processing', doneClips: [0] }, T0)).toBeUndefined();
  });
});

describe('unitsPerClip', () => {
  it('gives each clip the units whose start lies in it', () => {
    expect(unitsPerClip([0, 0.5, 1, 1.9, 2, 5.5], [0, 2, 4], 2)).toEqual([4, 1, 1]);
  });
});

describe('throttledReporter', () => {
  it('sends at most one count per interval, only rising counts, in order', async () => {
    let now = 0;
    const sent: number[] = [];
    const r = throttledReporter(async (n) => void sent.push(n), 3000, () => undefined, () => now);
    r.start();
    r.report(1); // within the interval of the start: held back
    now = 3000;
    r.report(2);
    r.report(3); // within the interval of 2: held back
    now = 7000;
    r.report(2); // not higher than the last sent one
    r.report(1);
    now = 10_000;
    r.report(5);
    await r.settle();
    expect(sent).toEqual([0, 2, 5]);
  });

  it('hands a failed write to onError and keeps going', async () => {
    let now = 0;
    const errors: unknown[] = [];
    const sent: number[] = [];
    const r = throttledReporter(async (n) => {
      if (n === 1) throw new Error('throttled');
      sent.push(n);
    }, 1, (e) => errors.push(e), () => now);
    r.report(1);
    now = 5;
    r.report(2);
    await r.settle();
    expect(sent).toEqual([2]);
    expect(String(errors[0])).toContain('throttled');
  });
});
