/**
 * Identity on the synthetic tracking set (test/detection/track-scenes.ts: 40 scenes of 60 s,
 * 4-7 people each, with crossings, pillars hiding walkers for 2-4 s and camera pans), the
 * ByteTrack-style tracker against the greedy IoU linker: IDF1, IDTP and ID switches per scene kind
 * and overall, at keyframe intervals 0.5, 1 and 2 s, plus the tracker without its faint people
 * (the second association off), and each tracker's time per keyframe; 5 crowd scenes of 20
 * people beside. Pure computation; the two
 * trackers are timed alternately (greedy, ByteTrack, ByteTrack, greedy) so a drift in the shared
 * machine's load falls on both alike.
 */
import { idf1, idSwitches } from '../core/detection/identity-metrics.ts';
import type { KeyframeDetections } from '../core/detection/schema.ts';
import { linkTracks, type TrackerChoice } from '../core/detection/tracks.ts';
import { crowdSet, predicted, trackingSet, type SampledScene } from '../test/detection/track-scenes.ts';

type Scenes = Array<SampledScene & { name: string }>;

interface Score {
  idf1: number;
  idtp: number;
  idsw: number;
  gtBoxes: number;
}

function score(scenes: Scenes, choice: TrackerChoice, prepare: (k: KeyframeDetections[]) => KeyframeDetections[] = (k) => k): Score {
  let idtp = 0;
  let boxes = 0;
  let idsw = 0;
  let gtBoxes = 0;
  for (const s of scenes) {
    const keyframes = prepare(s.keyframes);
    const pred = predicted(keyframes, linkTracks(keyframes, choice));
    const m = idf1(s.truth, pred);
    idtp += m.idtp;
    boxes += 2 * m.idtp + m.idfp + m.idfn;
    gtBoxes += m.idtp + m.idfn;
    idsw += idSwitches(s.truth, pred).idsw;
  }
  return { idf1: (2 * idtp) / boxes, idtp, idsw, gtBoxes };
}

/** Microseconds per keyframe of linking every scene, `rounds` times. */
function timePerKeyframe(scenes: Scenes, choice: TrackerChoice, rounds: number): number {
  const keyframes = scenes.reduce((n, s) => n + s.keyframes.length, 0) * rounds;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) for (const s of scenes) linkTracks(s.keyframes, choice);
  return ((performance.now() - t0) * 1000) / keyframes;
}

export async function run(): Promise<void> {
  const byte: TrackerChoice = { tracker: 'bytetrack' };
  const greedy: TrackerChoice = { tracker: 'greedy' };
  const noFaint = (k: KeyframeDetections[]) => k.map(({ faint: _faint, ...rest }) => rest);
  const cell = (s: Score) => `${s.idf1.toFixed(3)} / ${String(s.idsw).padStart(4)}`;
  console.log('IDF1 / ID switches (IoU >= 0.5); 10 scenes of each kind and 5 crowd scenes, 60 s each');
  console.log(`  ${'interval, scenes'.padEnd(26)}${'boxes'.padStart(7)}${'ByteTrack'.padStart(16)}${'no faint'.padStart(16)}${'greedy'.padStart(16)}`);
  for (const interval of [0.5, 1, 2]) {
    const all = trackingSet(interval);
    const kinds = ['crossings', 'pillars', 'pan', 'mixed'];
    const crowd = crowdSet(interval);
    for (const kind of [...kinds, 'all', 'crowd (20 people)']) {
      const scenes = kind === 'all' ? all : kind.startsWith('crowd') ? crowd : all.filter((s) => s.name.startsWith(kind));
      const b = score(scenes, byte);
      const n = score(scenes, byte, noFaint);
      const g = score(scenes, greedy);
      console.log(`  ${`${interval} s, ${kind}`.padEnd(26)}${String(b.gtBoxes).padStart(7)}${cell(b).padStart(16)}${cell(n).padStart(16)}${cell(g).padStart(16)}`);
    }
  }
  // Time per keyframe: one round each to warm up, then greedy, ByteTrack, ByteTrack, greedy.
  for (const [what, scenes] of [['1 s set', trackingSet(1)], ['1 s crowd', crowdSet(1)]] as const) timing(what, [...scenes]);
}

function timing(what: string, scenes: Scenes): void {
  const byte: TrackerChoice = { tracker: 'bytetrack' };
  const greedy: TrackerChoice = { tracker: 'greedy' };
  timePerKeyframe(scenes, greedy, 1);
  timePerKeyframe(scenes, byte, 1);
  const times = { greedy: [] as number[], bytetrack: [] as number[] };
  for (const t of ['greedy', 'bytetrack', 'bytetrack', 'greedy'] as const) times[t].push(timePerKeyframe(scenes, { tracker: t }, 5));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const people = scenes.reduce((n, s) => n + s.keyframes.reduce((m, k) => m + k.people.length + (k.faint?.length ?? 0), 0), 0) / scenes.reduce((n, s) => n + s.keyframes.length, 0);
  console.log(`time per keyframe (${what}, ${people.toFixed(1)} detections a keyframe): ByteTrack ${mean(times.bytetrack).toFixed(1)} us, greedy ${mean(times.greedy).toFixed(1)} us (${(mean(times.bytetrack) / mean(times.greedy)).toFixed(2)}x)`);
}
