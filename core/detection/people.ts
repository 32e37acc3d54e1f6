/**
 * The detector's output -> the people of one keyframe: keep the person class at or above the
 * score threshold, best first, at most `maxPeople` (a crowd costs the action model one RoI per
 * person; the cap bounds a keyframe's cost and record size), with boxes as frame fractions.
 */
import { toFractions, type Size } from './boxes.ts';
import type { Box } from './schema.ts';

/** Default cap on people per keyframe (AVA keyframes rarely show more than a dozen people). */
export const DEFAULT_MAX_PEOPLE = 20;

export interface DetectorOutput {
  /** [N * 4] x1, y1, x2, y2 in the detector's input pixels. */
  boxes: Float32Array;
  scores: Float32Array;
  labels: BigInt64Array;
}

export interface PeopleOptions {
  personLabel: number;
  minScore: number;
  maxPeople: number;
  /** The frame as scaled for the detector (before padding): boxes are fractions of it. */
  scaled: Size;
}

export interface FoundPerson {
  box: Box;
  score: number;
}

/**
 * The confident people (score >= minScore, at most maxPeople, best first) and, when
 * `faintScore` < minScore, the faint ones for the tracker (faintScore <= score < minScore, at most
 * maxPeople, best first).
 */
export function selectPeopleAndFaint(out: DetectorOutput, o: PeopleOptions & { faintScore: number }): { people: FoundPerson[]; faint: FoundPerson[] } {
  const all = selectPeople(out, { ...o, minScore: Math.min(o.minScore, o.faintScore), maxPeople: Infinity });
  return {
    people: all.filter((p) => p.score >= o.minScore).slice(0, o.maxPeople),
    faint: all.filter((p) => p.score < o.minScore).slice(0, o.maxPeople),
  };
}

export function selectPeople(out: DetectorOutput, o: PeopleOptions): FoundPerson[] {
  const found: FoundPerson[] = [];
  for (let i = 0; i < out.scores.length; i++) {
    if (Number(out.labels[i]) !== o.personLabel || !(out.scores[i]! >= o.minScore)) continue;
    const box = toFractions(Array.from(out.boxes.subarray(4 * i, 4 * i + 4)), o.scaled);
    if (box[2] <= box[0] || box[3] <= box[1]) continue;
    found.push({ box, score: out.scores[i]! });
  }
  found.sort((a, b) => b.score - a.score);
  return found.slice(0, o.maxPeople);
}
