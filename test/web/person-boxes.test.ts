/**
 * Which person boxes the player draws at a moment, and where the picture sits in its element.
 * Pure functions of web/person-boxes.tsx (the browser test shows them drawn).
 */
import { describe, expect, it } from 'vitest';
import type { TimelineResponse } from '../../core/query/responses.ts';
import { boxesAt, containRect, keyframeInterval } from '../../web/person-boxes.tsx';

type Seg = TimelineResponse['segments'][number];
const person = (id: number, label: string, score: number, boxes: Array<[number, [number, number, number, number]]>): Seg => ({
  kind: 'person', person: id, label, score, mean: score, windows: boxes.length, start: boxes[0]![0] - 0.5, end: boxes.at(-1)![0] + 0.5,
  boxes: boxes.map(([t, box]) => ({ t, box })),
});
const clip: Seg = { kind: 'clip', label: 'dancing', score: 0.9, mean: 0.9, windows: 1, start: 0, end: 4 };

describe('person boxes on the player', () => {
  const segments = [
    clip,
    person(1, 'stand', 0.7, [[0.5, [0.1, 0.1, 0.3, 0.9]], [1.5, [0.2, 0.1, 0.4, 0.9]]]),
    person(1, 'smoke', 0.9, [[1.5, [0.2, 0.1, 0.4, 0.9]]]),
    person(2, 'sit', 0.6, [[0.5, [0.6, 0.5, 0.9, 1]]]),
  ];

  it('infers the keyframe interval from the keyframe times (1 s when there is one keyframe)', () => {
    expect(keyframeInterval(segments)).toBe(1);
    expect(keyframeInterval([person(1, 'a', 0.5, [[1, [0, 0, 1, 1]], [3, [0, 0, 1, 1]]])])).toBe(2);
    expect(keyframeInterval([clip])).toBe(1);
  });

  it('shows each person once, at the keyframe whose span holds the time, with their actions best first', () => {
    expect(boxesAt(segments, 0.2, 1)).toEqual([
      { person: 1, actions: ['stand'], box: [0.1, 0.1, 0.3, 0.9] },
      { person: 2, actions: ['sit'], box: [0.6, 0.5, 0.9, 1] },
    ]);
    expect(boxesAt(segments, 1.0, 1)).toEqual([{ person: 1, actions: ['smoke', 'stand'], box: [0.2, 0.1, 0.4, 0.9] }]);
    expect(boxesAt(segments, 2.0, 1)).toEqual([]); // past the last keyframe's span
  });

  it('places the picture as object-fit: contain does (letterboxed, centred)', () => {
    const near = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v * 1000) / 1000 + 0]));
    expect(near({ ...containRect({ width: 600, height: 450 }, { width: 224, height: 224 }) })).toEqual({ left: 75, top: 0, width: 450, height: 450 });
    expect(near({ ...containRect({ width: 600, height: 450 }, { width: 1920, height: 1080 }) })).toEqual({ left: 0, top: 56.25, width: 600, height: 337.5 });
    expect(containRect({ width: 600, height: 450 }, { width: 0, height: 0 })).toEqual({ left: 0, top: 0, width: 600, height: 450 });
  });
});
