/**
 * Person tracks that hold identity: ByteTrack's association (Zhang et al., "ByteTrack: Multi-Object
 * Tracking by Associating Every Detection Box", ECCV 2022) over a video's keyframes, no weights.
 *
 * Each track keeps a Kalman-filtered box (kalman.ts: centre, aspect, height and their velocities,
 * one step per keyframe). Per keyframe, in index order, every track is predicted (a keyframe index
 * skipped is a step too), then:
 * 1. the confident people (`people`, at or above the person threshold) are matched to the tracked
 *    and lost tracks, cost 1 - IoU(predicted box, detection), optimal assignment (assignment.ts)
 *    with pairs below `highIou` refused; a matched lost track is found again, same id;
 * 2. the faint people (`faint`, between the tracker's low threshold and the person threshold:
 *    often someone partly hidden) are matched to the tracked tracks still unmatched, IoU at least
 *    `lowIou`; a track matched so keeps its id and its filter follows the box, but the faint
 *    detection is not reported (it has no actions);
 * 3. tracks still unmatched become lost; a lost track not found again within `maxGap` keyframes
 *    after its last match ends (death);
 * 4. a track born on the previous keyframe (unconfirmed) must be matched now, to a confident person
 *    left over, IoU at least `newIou`, or it ends (a one-keyframe false alarm does not linger);
 * 5. each confident person still unmatched starts a new, unconfirmed track (birth); on the first
 *    keyframe of a video tracks start confirmed.
 * IoU here is the buffered IoU (Yang et al., "Hard to Track Objects with Irregular Motions and
 * Similar Appearances?", WACV 2023) when `buffer` > 0: both boxes grown by `buffer` times their
 * width and height on each side, which lets a person moving about a box width per keyframe (a
 * walker at one keyframe a second) be matched before the filter has learnt their velocity.
 *
 * Every confident person gets an id (person segments need one), counted from 1 in order of first
 * appearance; the result depends only on the keyframes, not on their order in the array.
 */
import { assignWithLimit } from './assignment.ts';
import { iou } from './boxes.ts';
import { initiate, predict, update, xyahToBox, type BoxState, type KalmanNoise } from './kalman.ts';
import type { Box, KeyframeDetections } from './schema.ts';

export interface ByteTrackOptions {
  /** First association (confident people, tracked and lost tracks): least IoU (ByteTrack: 0.2, match_thresh 0.8). */
  highIou: number;
  /** Second association (faint people, tracked tracks): least IoU (ByteTrack: 0.5). */
  lowIou: number;
  /** Unconfirmed tracks and confident people left over: least IoU (ByteTrack: 0.3). */
  newIou: number;
  /** Keyframes a lost track survives after its last match (ByteTrack's track_buffer, in keyframes). */
  maxGap: number;
  /** Buffered IoU's growth per side, as a fraction of the box's width and height (0: plain IoU), for the confident people. */
  buffer: number;
  /** The same for the faint people (second association). */
  lowBuffer: number;
  noise: KalmanNoise;
}

/**
 * Defaults, measured on the synthetic set (test/detection/track-scenes.ts, one keyframe a second;
 * the sweep is in docs/decisions.md): ByteTrack's first and second association thresholds (IoU
 * 0.2 and 0.5); unconfirmed tracks matched at buffered IoU 0.1 and confident people at buffer 1
 * (a walker moves about a box width between keyframes, and a new track has no velocity yet);
 * faint people at plain IoU (a buffer there lets false alarms hold tracks); a lost track lives 5
 * keyframes (occlusions of 2-4 s are held). The filter's result depends only on the ratio of its
 * two noise weights (every covariance scales with them); 1/2 was best, where ByteTrack's per
 * frame at 30 fps is 1/8.
 */
export const DEFAULT_BYTETRACK_OPTIONS: ByteTrackOptions = {
  highIou: 0.2,
  lowIou: 0.5,
  newIou: 0.1,
  maxGap: 5,
  buffer: 1,
  lowBuffer: 0,
  noise: { position: 1 / 20, velocity: 1 / 40 },
};

type State = 'tracked' | 'lost';

interface Track {
  serial: number;
  kalman: BoxState;
  state: State;
  confirmed: boolean;
  /** Keyframe index of the last match. */
  lastIndex: number;
}

function grow(b: Box | readonly number[], by: number): Box {
  const w = b[2]! - b[0]!;
  const h = b[3]! - b[1]!;
  return [b[0]! - by * w, b[1]! - by * h, b[2]! + by * w, b[3]! + by * h];
}

function costMatrix(tracks: readonly Track[], boxes: readonly Box[], buffer: number): number[][] {
  const dets = boxes.map((b) => grow(b, buffer));
  return tracks.map((t) => {
    const p = grow(xyahToBox(t.kalman.mean), buffer);
    return dets.map((d) => 1 - iou(p, d));
  });
}

/** Person ids for each keyframe's confident people, parallel to `keyframes[i].people`. */
export function trackPeople(keyframes: readonly KeyframeDetections[], options: Partial<ByteTrackOptions> = {}): number[][] {
  const o: ByteTrackOptions = { ...DEFAULT_BYTETRACK_OPTIONS, ...options, noise: { ...DEFAULT_BYTETRACK_OPTIONS.noise, ...options.noise } };
  const order = keyframes.map((_, i) => i).sort((a, b) => keyframes[a]!.index - keyframes[b]!.index);
  const serials: number[][] = keyframes.map((k) => new Array<number>(k.people.length).fill(0));
  let tracks: Track[] = [];
  let nextSerial = 1;
  let previous: number | undefined;
  for (const i of order) {
    const kf = keyframes[i]!;
    const steps = previous === undefined ? 0 : Math.max(1, kf.index - previous);
    // Keyframes missing from the list (indices skipped) count as keyframes without this person.
    tracks = tracks.filter((t) => kf.index - t.lastIndex - 1 <= (t.confirmed ? o.maxGap : 0));
    for (const t of tracks) {
      // ByteTrack: a track not seen on the last step stops growing or shrinking.
      if (t.state !== 'tracked') t.kalman.mean[7] = 0;
      for (let s = 0; s < steps; s++) t.kalman = predict(t.kalman, o.noise);
    }
    const high = kf.people.map((p) => p.box);
    const low = (kf.faint ?? []).map((p) => p.box);
    const matchTo = (t: Track, box: Box) => {
      t.kalman = update(t.kalman, box, o.noise);
      t.state = 'tracked';
      t.lastIndex = kf.index;
    };

    // 1. Confident people vs tracked and lost (confirmed) tracks.
    const pool = tracks.filter((t) => t.confirmed);
    const first = assignWithLimit(costMatrix(pool, high, o.buffer), 1 - o.highIou, high.length);
    for (const [ti, di] of first.matches) {
      matchTo(pool[ti]!, high[di]!);
      serials[i]![di] = pool[ti]!.serial;
    }
    // 2. Faint people vs the tracked tracks still unmatched.
    const waiting = first.unmatchedRows.map((ti) => pool[ti]!).filter((t) => t.state === 'tracked');
    const second = assignWithLimit(costMatrix(waiting, low, o.lowBuffer), 1 - o.lowIou, low.length);
    for (const [ti, di] of second.matches) matchTo(waiting[ti]!, low[di]!);
    // 3. The rest of the pool is lost.
    const matched = new Set<Track>([...first.matches.map(([ti]) => pool[ti]!), ...second.matches.map(([ti]) => waiting[ti]!)]);
    for (const t of pool) if (!matched.has(t)) t.state = 'lost';
    // 4. Unconfirmed tracks vs the confident people left over; unmatched ones end.
    const unconfirmed = tracks.filter((t) => !t.confirmed);
    const leftHigh = first.unmatchedCols;
    const third = assignWithLimit(costMatrix(unconfirmed, leftHigh.map((d) => high[d]!), o.buffer), 1 - o.newIou, leftHigh.length);
    const ended = new Set<Track>(third.unmatchedRows.map((ti) => unconfirmed[ti]!));
    for (const [ti, dj] of third.matches) {
      const t = unconfirmed[ti]!;
      matchTo(t, high[leftHigh[dj]!]!);
      t.confirmed = true;
      serials[i]![leftHigh[dj]!] = t.serial;
    }
    // 5. Births.
    for (const dj of third.unmatchedCols) {
      const di = leftHigh[dj]!;
      const t: Track = { serial: nextSerial++, kalman: initiate(high[di]!, o.noise), state: 'tracked', confirmed: previous === undefined, lastIndex: kf.index };
      tracks.push(t);
      serials[i]![di] = t.serial;
    }
    // Deaths: unconfirmed tracks left unmatched, lost tracks past the gap.
    tracks = tracks.filter((t) => !ended.has(t) && !(t.state === 'lost' && kf.index - t.lastIndex > o.maxGap));
    previous = kf.index;
  }
  // Ids from 1 in order of first appearance (serials of tracks that never reported keep their order).
  const ids = new Map<number, number>();
  for (const i of order) for (const s of serials[i]!) if (!ids.has(s)) ids.set(s, ids.size + 1);
  return serials.map((row) => row.map((s) => ids.get(s)!));
}
