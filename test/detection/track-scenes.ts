/**
 * Synthetic people for measuring trackers: scenes in continuous time with their ground truth,
 * sampled at any keyframe interval into what a person detector would report.
 *
 * A scene (60 s, a 16:9 frame, boxes as frame fractions) has 4-7 people. Each walks along a lane
 * (feet at y, height growing with y: nearer is lower and larger) at a constant velocity with a
 * gentle sway, or stands and shifts about; walkers enter and leave at the sides. Lanes are close
 * and walkers go both ways, so people cross. Some scenes have pillars (world-fixed, in front of
 * everyone) wide enough to hide a walker for 2-4 s; some scenes pan the camera (everything,
 * pillars included, slides sideways for a few seconds at a time).
 *
 * The detector model: a person's visibility is the fraction of their box not covered by a pillar,
 * a nearer person or the frame's edge (sampled on a grid). Visible >= 0.6: found with a high score
 * (0.8-0.99) 95 % of the time, else missed (5 %); 0.25-0.6: found with a low score (0.1-0.75)
 * 80 % of the time (the ones ByteTrack's second association uses), else missed; below 0.25:
 * missed. Found boxes are jittered (3 % of the box height per coordinate). Each keyframe also has
 * false alarms: low-score boxes (Poisson, mean 0.3) and, rarely, a confident one (2 %).
 * Ground truth on a keyframe: the people in frame with visibility >= 0.5.
 *
 * A crowd scene (for timing and a harder case) has 20 people entering in the first 5 s, pillars
 * and pans. Seeded (mulberry32), so a set is the same on every run.
 */
import type { Box, KeyframeDetections, PersonDetection } from '../../core/detection/schema.ts';
import type { LabelledBox, Trajectories } from '../../core/detection/identity-metrics.ts';
import { planKeyframes } from '../../core/detection/keyframes.ts';

export const SCENE_SECONDS = 60;
export const DETECTOR_HIGH = 0.8;
/** The low detections a detector run at a low threshold would add. */
export const DETECTOR_LOW = 0.1;

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Walker {
  id: number;
  /** World x of the centre at t = 0, velocity (frame widths per second). */
  x0: number;
  vx: number;
  /** Feet (box bottom), height. */
  y: number;
  h: number;
  sway: number;
  phase: number;
  /** Seconds the person is in the scene. */
  from: number;
  to: number;
}

interface Pillar {
  x: number;
  w: number;
}

export interface Scene {
  name: string;
  walkers: Walker[];
  pillars: Pillar[];
  /** Camera x offset (frame widths) at time t. */
  pan: (t: number) => number;
}

export interface SampledScene {
  keyframes: KeyframeDetections[];
  truth: Trajectories;
}

/** Width of a person box in frame widths, for height h (frame heights): 0.4 aspect on 16:9. */
const widthOf = (h: number) => h * 0.4 * (9 / 16);

function personBox(w: Walker, t: number, pan: number): Box {
  const cx = w.x0 + w.vx * t + w.sway * Math.sin(t * 0.7 + w.phase) - pan;
  const half = widthOf(w.h) / 2;
  return [cx - half, w.y - w.h, cx + half, w.y];
}

export type SceneKind = 'crossings' | 'pillars' | 'pan' | 'mixed' | 'crowd';

export function makeScene(seed: number, kind: SceneKind): Scene {
  const r = mulberry32(seed);
  const between = (a: number, b: number) => a + (b - a) * r();
  const count = kind === 'crowd' ? 20 : 4 + Math.floor(r() * 4);
  const walkers: Walker[] = [];
  for (let id = 1; id <= count; id++) {
    const standing = r() < 0.3;
    const y = between(0.55, 0.95);
    const h = 0.2 + (y - 0.55) * 0.6 + between(-0.02, 0.02);
    const speed = standing ? between(0, 0.01) : between(0.04, 0.12);
    const dir = r() < 0.5 ? -1 : 1;
    const from = between(0, kind === 'crowd' ? 5 : SCENE_SECONDS * 0.5);
    const span = standing ? between(15, 40) : (1.3 + widthOf(h)) / speed;
    // Walkers enter at one side and leave at the other; standing people appear where they stand.
    const x0 = standing ? between(0.1, 0.9) - speed * dir * from : dir > 0 ? -widthOf(h) / 2 - dir * speed * from : 1 + widthOf(h) / 2 - dir * speed * from;
    walkers.push({ id, x0, vx: dir * speed, y, h, sway: standing ? between(0.005, 0.02) : between(0, 0.01), phase: between(0, 6.3), from, to: Math.min(SCENE_SECONDS, from + span) });
  }
  const pillars: Pillar[] = kind === 'pillars' || kind === 'mixed' || kind === 'crowd' ? [{ x: between(0.25, 0.4), w: between(0.12, 0.2) }, { x: between(0.6, 0.75), w: between(0.1, 0.18) }] : [];
  const pans: Array<{ at: number; for: number; v: number }> = [];
  if (kind === 'pan' || kind === 'mixed' || kind === 'crowd') for (let k = 0; k < 4; k++) pans.push({ at: between(0, SCENE_SECONDS - 6), for: between(2, 6), v: between(-0.08, 0.08) });
  const pan = (t: number) => pans.reduce((x, p) => x + p.v * Math.min(Math.max(t - p.at, 0), p.for), 0);
  return { name: `${kind} ${seed}`, walkers, pillars, pan };
}

/** Fraction of box `b` visible: not under a pillar, a nearer person's box, or off the frame. */
function visibility(b: Box, covers: readonly Box[]): number {
  const NX = 8;
  const NY = 16;
  let seen = 0;
  for (let i = 0; i < NX; i++) {
    for (let j = 0; j < NY; j++) {
      const x = b[0] + ((i + 0.5) / NX) * (b[2] - b[0]);
      const y = b[1] + ((j + 0.5) / NY) * (b[3] - b[1]);
      if (x < 0 || x > 1 || y < 0 || y > 1) continue;
      if (covers.some((c) => x >= c[0] && x <= c[2] && y >= c[1] && y <= c[3])) continue;
      seen++;
    }
  }
  return seen / (NX * NY);
}

const clampBox = (b: Box): Box => {
  const c = (v: number) => Math.min(1, Math.max(0, v));
  const x1 = c(Math.min(b[0], b[2]));
  const x2 = c(Math.max(b[0], b[2]));
  const y1 = c(Math.min(b[1], b[3]));
  const y2 = c(Math.max(b[1], b[3]));
  return [x1, y1, x2, y2];
};

/** The scene at keyframes of `interval` s: what a detector would report, and the ground truth. */
export function sampleScene(scene: Scene, interval: number, seed: number): SampledScene {
  const r = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const keyframes: KeyframeDetections[] = [];
  const truth: LabelledBox[][] = [];
  for (const plan of planKeyframes(SCENE_SECONDS, interval)) {
    const t = plan.t;
    const pan = scene.pan(t);
    const present = scene.walkers.filter((w) => t >= w.from && t < w.to).map((w) => ({ w, box: personBox(w, t, pan) }));
    const pillarBoxes: Box[] = scene.pillars.map((p) => [p.x - pan, 0, p.x - pan + p.w, 1]);
    const people: PersonDetection[] = [];
    const faint: Array<{ box: Box; score: number }> = [];
    const gt: LabelledBox[] = [];
    for (const { w, box } of present) {
      const nearer = present.filter((o) => o.w.y > w.y).map((o) => o.box);
      const v = visibility(box, [...pillarBoxes, ...nearer]);
      if (v >= 0.5) gt.push({ id: w.id, box: clampBox(box) });
      const jitter = (): Box => {
        const s = 0.03 * w.h;
        return clampBox([box[0] + s * gauss(), box[1] + s * gauss(), box[2] + s * gauss(), box[3] + s * gauss()]);
      };
      const u = r();
      if (v >= 0.6) {
        if (u < 0.95) people.push({ box: jitter(), score: 0.8 + 0.19 * r(), actions: [] });
      } else if (v >= 0.25 && u < 0.8) {
        faint.push({ box: jitter(), score: 0.1 + 0.65 * r() });
      }
    }
    const falseBox = (): Box => {
      const h = 0.15 + 0.3 * r();
      const x = r() * (1 - widthOf(h));
      const y = 0.3 + r() * (0.7 - h);
      return [x, y, x + widthOf(h), y + h];
    };
    // Poisson(0.3) low-score false alarms, and a rare confident one.
    for (let p = Math.exp(-0.3), u = r(), k = 0; u > p && k < 5; k++) {
      faint.push({ box: falseBox(), score: 0.1 + 0.4 * r() });
      u *= r();
    }
    if (r() < 0.02) people.push({ box: falseBox(), score: 0.8 + 0.1 * r(), actions: [] });
    people.sort((a, b) => b.score - a.score);
    faint.sort((a, b) => b.score - a.score);
    keyframes.push({ index: plan.index, t, people, ...(faint.length ? { faint } : {}) });
    truth.push(gt);
  }
  return { keyframes, truth };
}

/** The measured set: 40 scenes, 10 of each kind. */
export function trackingSet(interval = 1): Array<SampledScene & { name: string }> {
  const kinds = ['crossings', 'pillars', 'pan', 'mixed'] as const;
  const out: Array<SampledScene & { name: string }> = [];
  for (let k = 0; k < 40; k++) {
    const scene = makeScene(1000 + k, kinds[k % 4]!);
    out.push({ name: scene.name, ...sampleScene(scene, interval, 5000 + k) });
  }
  return out;
}

/** Crowd scenes (20 people each, pillars, pans). */
export function crowdSet(interval = 1, count = 5): Array<SampledScene & { name: string }> {
  return Array.from({ length: count }, (_, k) => {
    const scene = makeScene(2000 + k, 'crowd');
    return { name: scene.name, ...sampleScene(scene, interval, 6000 + k) };
  });
}

/** A tracker's ids as trajectories parallel to the keyframes. */
export function predicted(keyframes: readonly KeyframeDetections[], ids: readonly number[][]): Trajectories {
  return keyframes.map((k, i) => k.people.map((p, j) => ({ id: ids[i]![j]!, box: p.box })));
}
