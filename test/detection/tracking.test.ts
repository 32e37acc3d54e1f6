/**
 * The tracker and how it is measured: optimal assignment and the identity metrics on cases worked
 * out by hand first, then the Kalman filter, the ByteTrack-style tracker's rules, and the tracker
 * against the greedy linker on the synthetic set (crossings, 2-4 s occlusions, camera pans).
 */
import { describe, expect, it } from 'vitest';
import { assignWithLimit, solveAssignment } from '../../core/detection/assignment.ts';
import { trackPeople } from '../../core/detection/bytetrack.ts';
import { idf1, idSwitches, type Trajectories } from '../../core/detection/identity-metrics.ts';
import { boxToXyah, initiate, predict, update, xyahToBox } from '../../core/detection/kalman.ts';
import type { Box, KeyframeDetections } from '../../core/detection/schema.ts';
import { linkTracks } from '../../core/detection/tracks.ts';
import { mulberry32, predicted, trackingSet } from './track-scenes.ts';

const total = (cost: number[][], cols: number[]) => cols.reduce((s, j, i) => s + (j >= 0 ? cost[i]![j]! : 0), 0);

/** Every assignment of min(n, m) pairs, the cheapest one's cost (brute force). */
function bruteForce(cost: number[][]): number {
  const n = cost.length;
  const m = cost[0]!.length;
  let best = Infinity;
  const used = new Array<boolean>(m).fill(false);
  const take = Math.min(n, m);
  const go = (i: number, count: number, sum: number) => {
    if (count === take) return void (best = Math.min(best, sum));
    if (i === n) return;
    if (n - i > take - count) go(i + 1, count, sum); // row i left out (only when rows > columns)
    for (let j = 0; j < m; j++) {
      if (used[j]) continue;
      used[j] = true;
      go(i + 1, count + 1, sum + cost[i]![j]!);
      used[j] = false;
    }
  };
  go(0, 0, 0);
  return best;
}

describe('optimal assignment (Hungarian, shortest augmenting paths)', () => {
  it('solves a hand case: the greedy first pick (0 at row 1) is not part of the optimum', () => {
    const cost = [
      [4, 1, 3],
      [2, 0, 5],
      [3, 2, 2],
    ];
    // Greedy takes (1,1)=0, then (0,2)=3 or (2,2)=2 ... = 5 at best; the optimum is also 5 but
    // only as (0,1) + (1,0) + (2,2): 1 + 2 + 2.
    expect(solveAssignment(cost)).toEqual([1, 0, 2]);
  });
  it('prefers two middling pairs to one cheap pair and one dear one', () => {
    expect(solveAssignment([[1, 2], [2, 100]])).toEqual([1, 0]);
  });
  it('handles more columns than rows and more rows than columns', () => {
    expect(solveAssignment([[5, 1, 9]])).toEqual([1]);
    expect(solveAssignment([[5], [1], [9]])).toEqual([-1, 0, -1]);
    expect(solveAssignment([])).toEqual([]);
  });
  it('matches brute force on random matrices up to 5 x 6, negative costs included', () => {
    const r = mulberry32(7);
    for (let k = 0; k < 200; k++) {
      const n = 1 + Math.floor(r() * 5);
      const m = 1 + Math.floor(r() * 6);
      const cost = Array.from({ length: n }, () => Array.from({ length: m }, () => Math.round((r() - 0.3) * 20)));
      const cols = solveAssignment(cost);
      expect(new Set(cols.filter((j) => j >= 0)).size).toBe(Math.min(n, m));
      expect(total(cost, cols)).toBe(bruteForce(cost));
    }
  });
  it('with a limit, refuses pairs that cost more and may leave rows and columns unmatched', () => {
    expect(assignWithLimit([[0.1, 0.9], [0.2, 0.95]], 0.5)).toEqual({ matches: [[0, 0]], unmatchedRows: [1], unmatchedCols: [1] });
    // Both pairs at 0.3 (0.6) beat 0.1 plus leaving a row and a column out (0.1 + 0.8).
    expect(assignWithLimit([[0.1, 0.3], [0.3, 0.9]], 0.8).matches).toEqual([[0, 1], [1, 0]]);
    expect(assignWithLimit([], 0.5, 3)).toEqual({ matches: [], unmatchedRows: [], unmatchedCols: [0, 1, 2] });
  });
});

const box = (x: number, w = 0.1): Box => [x, 0.2, x + w, 0.8];
const far: Box = [0.8, 0.2, 0.9, 0.8];
/** One identity per frame: [id, box] pairs. */
const frames = (...fs: Array<Array<[number, Box]>>): Trajectories => fs.map((f) => f.map(([id, b]) => ({ id, box: b })));

describe('identity metrics on hand-computed cases', () => {
  const A = box(0.1);
  const B = box(0.5);
  it('perfect tracking: IDF1 1, no switch', () => {
    const gt = frames([[1, A], [2, B]], [[1, A], [2, B]]);
    const pred = frames([[7, A], [9, B]], [[7, A], [9, B]]);
    expect(idf1(gt, pred)).toEqual({ idf1: 1, idtp: 4, idfp: 0, idfn: 0 });
    expect(idSwitches(gt, pred)).toEqual({ idsw: 0, matches: 4 });
  });
  it('one person whose id changes halfway: IDTP 2 of 4 boxes each side, IDF1 0.5, one switch', () => {
    const gt = frames([[1, A]], [[1, A]], [[1, A]], [[1, A]]);
    const pred = frames([[1, A]], [[1, A]], [[2, A]], [[2, A]]);
    // The one ground-truth trajectory matches prediction 1 or 2 (2 frames each): IDTP 2,
    // IDFN 4 - 2, IDFP 4 - 2, IDF1 = 2*2 / (2*2 + 2 + 2).
    expect(idf1(gt, pred)).toEqual({ idf1: 0.5, idtp: 2, idfp: 2, idfn: 2 });
    expect(idSwitches(gt, pred).idsw).toBe(1);
  });
  it('two people whose ids swap halfway: IDF1 0.5, a switch each', () => {
    const gt = frames([[1, A], [2, B]], [[1, A], [2, B]], [[1, A], [2, B]], [[1, A], [2, B]]);
    const pred = frames([[1, A], [2, B]], [[1, A], [2, B]], [[2, A], [1, B]], [[2, A], [1, B]]);
    expect(idf1(gt, pred)).toEqual({ idf1: 0.5, idtp: 4, idfp: 4, idfn: 4 });
    expect(idSwitches(gt, pred).idsw).toBe(2);
  });
  it('boxes overlapping less than IoU 0.5 never correspond', () => {
    const gt = frames([[1, box(0.1)]], [[1, box(0.1)]]);
    const pred = frames([[1, box(0.15)]], [[2, box(0.15)]]); // IoU 0.05 / 0.15 = 1/3
    expect(idf1(gt, pred)).toEqual({ idf1: 0, idtp: 0, idfp: 2, idfn: 2 });
    expect(idSwitches(gt, pred)).toEqual({ idsw: 0, matches: 0 });
  });
  it('a missed box and a false trajectory: IDTP 2, IDFN 1, IDFP 1, IDF1 4/6', () => {
    const gt = frames([[1, A]], [[1, A]], [[1, A]]);
    const pred = frames([[1, A]], [[1, A], [5, far]], []);
    const m = idf1(gt, pred);
    expect(m).toMatchObject({ idtp: 2, idfp: 1, idfn: 1 });
    expect(m.idf1).toBeCloseTo(4 / 6, 12);
  });
  it('counts a switch against the id last matched, across frames where the person was not matched', () => {
    const gt = frames([[1, A]], [[1, A]], [[1, A]], [[1, A]]);
    // Matched to 1, unmatched (no prediction), matched to 2 (switch), back to 1 (switch).
    const pred = frames([[1, A]], [], [[2, A]], [[1, A]]);
    expect(idSwitches(gt, pred)).toEqual({ idsw: 2, matches: 3 });
    // IDF1 keeps the best single pairing: trajectory 1 (2 frames).
    expect(idf1(gt, pred)).toMatchObject({ idtp: 2, idfn: 2, idfp: 1 });
  });
  it('keeps a correspondence that still holds even when another prediction overlaps more', () => {
    const gt = frames([[1, box(0.1)]], [[1, box(0.1)]]);
    const pred = frames([[1, box(0.1)]], [[1, box(0.12)], [2, box(0.1)]]);
    expect(idSwitches(gt, pred).idsw).toBe(0);
  });
});

describe('Kalman box filter (constant velocity on x, y, aspect, height)', () => {
  const noise = { position: 1 / 20, velocity: 1 / 40 };
  it('round-trips boxes through (x, y, aspect, height)', () => {
    const b: Box = [0.1, 0.2, 0.3, 0.8];
    const back = xyahToBox(boxToXyah(b));
    back.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 12));
  });
  it('learns a constant velocity and predicts the next box', () => {
    let s = initiate(box(0.1), noise);
    for (let k = 1; k <= 8; k++) s = update(predict(s, noise), box(0.1 + 0.05 * k), noise);
    const next = xyahToBox(predict(s, noise).mean);
    expect(next[0]).toBeCloseTo(0.1 + 0.05 * 9, 2);
    expect(s.mean[4]).toBeCloseTo(0.05, 2);
  });
  it('keeps a symmetric covariance that grows with prediction and shrinks with measurement', () => {
    const s0 = initiate(box(0.1), noise);
    const p = predict(s0, noise);
    const u = update(p, box(0.1), noise);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(u.cov[i * 8 + j]).toBeCloseTo(u.cov[j * 8 + i]!, 14);
    expect(p.cov[0]).toBeGreaterThan(s0.cov[0]!);
    expect(u.cov[0]).toBeLessThan(p.cov[0]!);
  });
});

const person = (b: Box, score = 0.9) => ({ box: b, score, actions: [] });
const kf = (index: number, boxes: Box[], faint: Box[] = []): KeyframeDetections => ({
  index,
  t: index + 0.5,
  people: boxes.map((b) => person(b)),
  ...(faint.length ? { faint: faint.map((b) => ({ box: b, score: 0.3 })) } : {}),
});

describe('ByteTrack-style tracker', () => {
  it('holds a walker through a 3-keyframe occlusion where the greedy linker gives a new id', () => {
    // 0.06 a keyframe, half the box width: seen on 0-4, hidden on 5-7, seen again on 8-10.
    const walk = [0, 1, 2, 3, 4, 8, 9, 10].map((k) => kf(k, [box(0.05 + 0.06 * k, 0.12)]));
    expect(trackPeople(walk).flat()).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(linkTracks(walk, { tracker: 'greedy' }).flat()).toEqual([1, 1, 1, 1, 1, 2, 2, 2]);
  });
  it('keeps two crossing walkers apart: the filters carry each one past the other', () => {
    const frames = Array.from({ length: 10 }, (_, k) => kf(k, [box(0.1 + 0.07 * k, 0.12), box(0.75 - 0.07 * k, 0.12)]));
    const ids = trackPeople(frames);
    expect(ids.every((row) => row[0] === 1 && row[1] === 2)).toBe(true);
  });
  it('ends a lost track after maxGap keyframes: the person seen again is a new id', () => {
    const seen = [kf(0, [box(0.3)]), kf(1, [box(0.3)]), kf(4, [box(0.3)])];
    expect(trackPeople(seen, { maxGap: 2 }).flat()).toEqual([1, 1, 1]);
    expect(trackPeople(seen, { maxGap: 1 }).flat()).toEqual([1, 1, 2]);
  });
  it('holds a track through keyframes where the person is only faintly detected, without reporting them', () => {
    // On 2-5 the person is only faint (partly hidden); with plain IoU association and a gap of 1, only
    // the faint matches keep the track alive.
    const frames = [0, 1, 2, 3, 4, 5, 6].map((k) => (k >= 2 && k <= 5 ? kf(k, [], [box(0.3 + 0.01 * k)]) : kf(k, [box(0.3 + 0.01 * k)])));
    expect(trackPeople(frames, { maxGap: 1 })).toEqual([[1], [1], [], [], [], [], [1]]);
    const withoutFaint = frames.map((f) => ({ ...f, faint: undefined }));
    expect(trackPeople(withoutFaint, { maxGap: 1 })).toEqual([[1], [1], [], [], [], [], [2]]);
  });
  it('gives a one-keyframe false alarm its own id and leaves the others alone', () => {
    const frames = [kf(0, [box(0.1)]), kf(1, [box(0.1), far]), kf(2, [box(0.1)])];
    expect(trackPeople(frames)).toEqual([[1], [1, 2], [1]]);
  });
  it('does not depend on the order keyframes arrive in, and finds nothing in an empty video', () => {
    const frames = Array.from({ length: 6 }, (_, k) => kf(k, [box(0.1 + 0.05 * k), box(0.7 - 0.02 * k)]));
    const shuffled = [frames[3]!, frames[0]!, frames[5]!, frames[1]!, frames[4]!, frames[2]!];
    const ids = trackPeople(shuffled);
    expect(ids).toEqual([3, 0, 5, 1, 4, 2].map((i) => trackPeople(frames)[i]));
    expect(trackPeople([kf(0, []), kf(1, [])])).toEqual([[], []]);
  });
  it('is the default tracker', () => {
    const walk = [0, 1, 2, 3, 4, 8, 9, 10].map((k) => kf(k, [box(0.05 + 0.06 * k, 0.12)]));
    expect(linkTracks(walk)).toEqual(trackPeople(walk));
  });
});

describe('identity on the synthetic set (40 scenes of 60 s: crossings, 2-4 s occlusions, camera pans)', () => {
  it('the ByteTrack-style tracker beats the greedy linker on IDF1 and ID switches at one keyframe a second', () => {
    const score = (tracker: 'bytetrack' | 'greedy') => {
      let idtp = 0;
      let boxes = 0;
      let idsw = 0;
      for (const s of trackingSet(1)) {
        const pred = predicted(s.keyframes, linkTracks(s.keyframes, { tracker }));
        const m = idf1(s.truth, pred);
        idtp += m.idtp;
        boxes += 2 * m.idtp + m.idfp + m.idfn;
        idsw += idSwitches(s.truth, pred).idsw;
      }
      return { idf1: (2 * idtp) / boxes, idsw };
    };
    const byte = score('bytetrack');
    const greedy = score('greedy');
    expect(byte.idf1).toBeGreaterThan(greedy.idf1 + 0.2);
    expect(byte.idsw).toBeLessThan(greedy.idsw / 2);
  });
});
