import { describe, expect, it } from 'vitest';
import { detectorInputSize, iou, toFractions, toPixels } from '../../core/detection/boxes.ts';
import { actionClipInstants, keyframesInClip, planKeyframes } from '../../core/detection/keyframes.ts';
import { selectPeople, selectPeopleAndFaint } from '../../core/detection/people.ts';
import { buildPersonSegments } from '../../core/detection/person-segments.ts';
import type { Box, KeyframeDetections, PersonDetection } from '../../core/detection/schema.ts';
import { KeyframeDetectionsSchema, PersonSegmentSchema } from '../../core/detection/schema.ts';
import { linkTracks, linkTracksGreedy } from '../../core/detection/tracks.ts';

const person = (box: Box, actions: Record<string, number> = {}, score = 0.9): PersonDetection => ({
  box,
  score,
  actions: Object.entries(actions).map(([label, p], index) => ({ label, index, p })),
});
const kf = (index: number, people: PersonDetection[], interval = 1): KeyframeDetections => ({ index, t: (index + 0.5) * interval, people });
const shift = (b: Box, dx: number): Box => [b[0] + dx, b[1], b[2] + dx, b[3]];

describe('keyframe plan (AVA: one a second, each the centre of its span)', () => {
  it('puts keyframe k at (k + 0.5) * interval for every centre inside the video', () => {
    expect(planKeyframes(3.2).map((k) => k.t)).toEqual([0.5, 1.5, 2.5]);
    expect(planKeyframes(3.6).map((k) => k.t)).toEqual([0.5, 1.5, 2.5, 3.5]);
    expect(planKeyframes(4, 2).map((k) => [k.t, k.start, k.end])).toEqual([
      [1, 0, 2],
      [3, 2, 4],
    ]);
  });
  it('clamps the last span to the video', () => {
    expect(planKeyframes(3.6).at(-1)).toEqual({ index: 3, t: 3.5, start: 3, end: 3.6 });
  });
  it('gives a video shorter than half an interval one keyframe at its middle', () => {
    expect(planKeyframes(0.3)).toEqual([{ index: 0, t: 0.15, start: 0, end: 0.3 }]);
  });
  it('rejects a non-positive interval', () => {
    expect(() => planKeyframes(10, 0)).toThrow(RangeError);
  });
  it('shares keyframes out to clips that tile the video exactly once', () => {
    const all = planKeyframes(25);
    const owned = [0, 10, 20].flatMap((a) => keyframesInClip(all, a, a + 10));
    expect(owned.map((k) => k.index)).toEqual(all.map((k) => k.index));
  });
  it('centres the action clip on the keyframe at the model window settings', () => {
    const instants = actionClipInstants(5, { frames: 32, samplingRate: 2, fps: 30 });
    expect(instants).toHaveLength(32);
    expect(instants[0]).toBeCloseTo(5 - 32 / 30, 9);
    expect(instants[16]).toBeCloseTo(5, 9);
    expect(instants[31]! - instants[30]!).toBeCloseTo(2 / 30, 9);
  });
});

describe('box geometry', () => {
  it('scales frames as torchvision does for detection: short side 800, long side at most 1333, padded to 32', () => {
    expect(detectorInputSize({ width: 1920, height: 1080 }, 800, 1333)).toEqual({ scaled: { width: 1333, height: 749 }, padded: { width: 1344, height: 768 } });
    expect(detectorInputSize({ width: 224, height: 224 }, 800, 1333)).toEqual({ scaled: { width: 800, height: 800 }, padded: { width: 800, height: 800 } });
    expect(detectorInputSize({ width: 1080, height: 1920 }, 800, 1333).scaled).toEqual({ width: 749, height: 1333 });
  });
  it('clamps boxes at the frame edge (and in the padding) to the frame', () => {
    expect(toFractions([-10, 50, 120, 300], { width: 100, height: 200 })).toEqual([0, 0.25, 1, 1]);
  });
  it('maps fractions to the action model input pixels', () => {
    expect(toPixels([0.25, 0.5, 0.75, 1], { width: 320, height: 256 })).toEqual([80, 128, 240, 256]);
  });
  it('computes IoU', () => {
    expect(iou([0, 0, 0.5, 0.5], [0, 0, 0.5, 0.5])).toBe(1);
    expect(iou([0, 0, 0.5, 0.5], [0.5, 0, 1, 0.5])).toBe(0);
    expect(iou([0, 0, 0.4, 0.4], [0.2, 0, 0.6, 0.4])).toBeCloseTo(1 / 3, 12);
  });
});

describe('people on a keyframe', () => {
  const out = {
    boxes: new Float32Array([0, 0, 50, 100, 10, 10, 60, 110, 0, 0, 5, 5, 20, 20, 20, 40]),
    scores: new Float32Array([0.95, 0.99, 0.85, 0.9]),
    labels: new BigInt64Array([1n, 1n, 3n, 1n]),
  };
  it('keeps people at or above the score threshold, best first, as fractions of the scaled frame', () => {
    const people = selectPeople(out, { personLabel: 1, minScore: 0.9, maxPeople: 20, scaled: { width: 100, height: 200 } });
    expect(people.map((p) => p.score)).toEqual([Math.fround(0.99), Math.fround(0.95)]);
    expect(people[0]!.box).toEqual([0.1, 0.05, 0.6, 0.55]);
  });
  it('drops other classes and empty boxes', () => {
    const people = selectPeople(out, { personLabel: 1, minScore: 0, maxPeople: 20, scaled: { width: 100, height: 200 } });
    expect(people).toHaveLength(2);
  });
  it('caps a crowd at maxPeople, keeping the best scores', () => {
    const n = 50;
    const many = {
      boxes: new Float32Array(Array.from({ length: n }, (_, i) => [i, 0, i + 10, 10]).flat()),
      scores: new Float32Array(Array.from({ length: n }, (_, i) => 0.5 + i / 100)),
      labels: new BigInt64Array(n).fill(1n),
    };
    const people = selectPeople(many, { personLabel: 1, minScore: 0.8, maxPeople: 5, scaled: { width: 100, height: 100 } });
    expect(people).toHaveLength(5);
    expect(people[0]!.score).toBeCloseTo(0.99, 5);
    expect(people.at(-1)!.score).toBeCloseTo(0.95, 5);
  });
  it('keeps people below the person threshold but at or above the faint one apart, for the tracker, each capped', () => {
    const n = 10;
    const many = {
      boxes: new Float32Array(Array.from({ length: n }, (_, i) => [i, 0, i + 10, 10]).flat()),
      scores: new Float32Array(Array.from({ length: n }, (_, i) => 0.05 + i / 10)), // 0.05 .. 0.95
      labels: new BigInt64Array(n).fill(1n),
    };
    const { people, faint } = selectPeopleAndFaint(many, { personLabel: 1, minScore: 0.8, faintScore: 0.1, maxPeople: 5, scaled: { width: 100, height: 100 } });
    expect(people.map((p) => p.score)).toEqual([Math.fround(0.95), Math.fround(0.85)]);
    expect(faint.map((p) => p.score)).toEqual([0.75, 0.65, 0.55, 0.45, 0.35].map(Math.fround));
    // A faint threshold at or above the person threshold keeps no faint people.
    expect(selectPeopleAndFaint(many, { personLabel: 1, minScore: 0.5, faintScore: 0.5, maxPeople: 20, scaled: { width: 100, height: 100 } }).faint).toEqual([]);
  });
});

describe('greedy linker (kept for comparison): a stable person id per video', () => {
  const a: Box = [0.1, 0.1, 0.3, 0.9];
  const b: Box = [0.6, 0.1, 0.8, 0.9];
  it('keeps ids for people who move a little between keyframes, whatever the detector order', () => {
    const ids = linkTracksGreedy([kf(0, [person(a), person(b)]), kf(1, [person(shift(b, 0.02)), person(shift(a, 0.02))]), kf(2, [person(shift(a, 0.04))])]);
    expect(ids).toEqual([[1, 2], [2, 1], [1]]);
  });
  it('keeps an id across one missed keyframe and starts a new one after a longer absence', () => {
    expect(linkTracksGreedy([kf(0, [person(a)]), kf(1, []), kf(2, [person(a)])])).toEqual([[1], [], [1]]);
    expect(linkTracksGreedy([kf(0, [person(a)]), kf(1, []), kf(2, []), kf(3, [person(a)])])).toEqual([[1], [], [], [2]]);
  });
  it('gives a new id to a person who does not overlap anyone seen', () => {
    expect(linkTracksGreedy([kf(0, [person(a)]), kf(1, [person(b)])])).toEqual([[1], [2]]);
  });
  it('gives each detection of a keyframe its own track', () => {
    const ids = linkTracksGreedy([kf(0, [person(a)]), kf(1, [person(a), person(shift(a, 0.01))])]);
    expect(ids[1]!.sort()).toEqual([1, 2]);
  });
  it('does not depend on the order keyframes arrive in (clips finish in any order)', () => {
    const frames = [kf(0, [person(a), person(b)]), kf(1, [person(shift(a, 0.02))]), kf(2, [person(shift(b, 0.02))])];
    expect(linkTracksGreedy([frames[2]!, frames[0]!, frames[1]!])).toEqual([[2], [1, 2], [1]]);
  });
  it('finds no tracks in a video with no people', () => {
    expect(linkTracksGreedy([kf(0, []), kf(1, [])])).toEqual([[], []]);
  });
});

describe('person segments', () => {
  const a: Box = [0.1, 0.1, 0.3, 0.9];
  const opts = { threshold: 0.5, gap: 1, interval: 1, duration: 10 };
  it('makes a segment of a run of keyframes above threshold, with a box per keyframe', () => {
    const frames = [0, 1, 2, 3].map((i) => kf(i, [person(shift(a, i * 0.01), { smoke: [0.6, 0.8, 0.7, 0.2][i]! })]));
    const segs = buildPersonSegments(frames, linkTracks(frames), opts);
    expect(segs).toHaveLength(1);
    const s = segs[0]!;
    expect(PersonSegmentSchema.parse(s)).toEqual(s);
    expect(s).toMatchObject({ kind: 'person', person: 1, label: 'smoke', start: 0, end: 3, score: 0.8, keyframes: 3 });
    expect(s.mean).toBeCloseTo(0.7, 12);
    expect(s.boxes.map((x) => x.t)).toEqual([0.5, 1.5, 2.5]);
  });
  it('bridges one missing keyframe and splits on two', () => {
    const p = (i: number, v: number) => kf(i, [person(a, { talk: v })]);
    const bridged = [p(0, 0.9), p(1, 0.1), p(2, 0.9)];
    expect(buildPersonSegments(bridged, linkTracks(bridged), opts).map((s) => [s.start, s.end])).toEqual([[0, 3]]);
    const split = [p(0, 0.9), p(1, 0.1), p(2, 0.1), p(3, 0.9)];
    expect(buildPersonSegments(split, linkTracks(split), opts).map((s) => [s.start, s.end])).toEqual([
      [0, 1],
      [3, 4],
    ]);
  });
  it('keeps people apart: the same action by two people is two segments', () => {
    const frames = [kf(0, [person(a, { stand: 0.9 }), person([0.6, 0.1, 0.8, 0.9], { stand: 0.7 })])];
    const segs = buildPersonSegments(frames, linkTracks(frames), opts);
    expect(segs.map((s) => [s.person, s.score])).toEqual([
      [1, 0.9],
      [2, 0.7],
    ]);
  });
  it('is multi-label: one person can do several actions at once', () => {
    const frames = [kf(0, [person(a, { stand: 0.9, 'talk to (e.g., self, a person, a group)': 0.8 })])];
    expect(buildPersonSegments(frames, linkTracks(frames), opts).map((s) => s.label)).toEqual(['stand', 'talk to (e.g., self, a person, a group)']);
  });
  it('clamps the last span to the video', () => {
    const frames = [kf(9, [person(a, { run: 0.9 })])];
    expect(buildPersonSegments(frames, linkTracks(frames), { ...opts, duration: 9.7 })[0]).toMatchObject({ start: 9, end: 9.7 });
  });
  it('gives an empty person timeline for a video with no people', () => {
    const frames = [kf(0, []), kf(1, [])];
    expect(buildPersonSegments(frames, linkTracks(frames), opts)).toEqual([]);
  });
  it('validates keyframe records', () => {
    expect(() => KeyframeDetectionsSchema.parse({ index: 0, t: 0.5, people: [{ box: [0.5, 0, 0.2, 1], score: 0.9, actions: [] }] })).toThrow();
  });
});
