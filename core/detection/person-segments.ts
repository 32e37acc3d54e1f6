/**
 * Keyframes -> per-person segments, the detection twin of timeline/merge.ts.
 *
 * Per person (track) and action label, over the keyframes in index order:
 * - a keyframe PASSES when the person is on it and the label's probability is >= threshold
 *   (labels not stored for that person count as below threshold);
 * - a segment is a maximal run of passing keyframes in which two consecutive passing keyframes are
 *   at most `gap` keyframe indices apart beyond adjacency (a keyframe where the person is missing
 *   counts as not passing);
 * - it spans from the start of its first passing keyframe's span to the end of its last one's
 *   (spans: [t - I/2, t + I/2) clamped to the video), `score` is the max and `mean` the mean
 *   probability over the passing keyframes, and `boxes` holds the person's box on each of them.
 * Segments come out ordered by start, then score (best first), then person, then label.
 */
import type { KeyframeDetections, PersonSegment, TimedBox } from './schema.ts';

export interface PersonSegmentOptions {
  threshold: number;
  gap: number;
  /** Keyframe interval (s). */
  interval: number;
  /** Video duration (s): spans are clamped to it. */
  duration: number;
}

interface Run {
  person: number;
  label: string;
  firstT: number;
  lastT: number;
  lastIndex: number;
  max: number;
  sum: number;
  boxes: TimedBox[];
}

export function comparePersonSegments(a: PersonSegment, b: PersonSegment): number {
  return a.start - b.start || b.score - a.score || a.person - b.person || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
}

export function buildPersonSegments(keyframes: readonly KeyframeDetections[], ids: readonly number[][], o: PersonSegmentOptions): PersonSegment[] {
  const order = keyframes.map((_, i) => i).sort((a, b) => keyframes[a]!.index - keyframes[b]!.index);
  const half = o.interval / 2;
  const toSegment = (r: Run): PersonSegment => ({
    kind: 'person',
    person: r.person,
    label: r.label,
    start: Math.max(0, r.firstT - half),
    end: Math.min(o.duration, r.lastT + half),
    score: r.max,
    mean: r.sum / r.boxes.length,
    keyframes: r.boxes.length,
    boxes: r.boxes,
  });
  const open = new Map<string, Run>();
  const done: PersonSegment[] = [];
  for (const i of order) {
    const kf = keyframes[i]!;
    kf.people.forEach((p, di) => {
      const person = ids[i]![di]!;
      const seen = new Set<string>();
      for (const a of p.actions) {
        if (a.p < o.threshold || seen.has(a.label)) continue;
        seen.add(a.label);
        const key = `${person}\u0000${a.label}`;
        const run = open.get(key);
        const box = { t: kf.t, box: p.box };
        if (run && kf.index - run.lastIndex - 1 <= o.gap) {
          run.lastT = kf.t;
          run.lastIndex = kf.index;
          run.max = Math.max(run.max, a.p);
          run.sum += a.p;
          run.boxes.push(box);
        } else {
          if (run) done.push(toSegment(run));
          open.set(key, { person, label: a.label, firstT: kf.t, lastT: kf.t, lastIndex: kf.index, max: a.p, sum: a.p, boxes: [box] });
        }
      }
    });
  }
  for (const run of open.values()) done.push(toSegment(run));
  return done.sort(comparePersonSegments);
}
