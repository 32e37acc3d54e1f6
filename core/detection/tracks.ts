/**
 * Linking people across keyframes into tracks: a stable person id per video.
 *
 * Two trackers: ByteTrack-style association (bytetrack.ts: Kalman-filtered boxes, two-stage
 * optimal matching, lost tracks kept for a few keyframes), the default; and the greedy IoU linker
 * below, kept for comparison (bench/tracking.bench.ts) and for results made before.
 *
 * The greedy linker: greedy IoU association, keyframe by keyframe in time order (what SORT-style trackers do without
 * a motion model; at one keyframe a second, people move little between keyframes relative to their
 * box size):
 * - a detection continues the live track whose last box overlaps it most (IoU >= minIou), each
 *   track taking at most one detection per keyframe; pairs are taken best IoU first, ties broken by
 *   the older track, then by the detection's order (the detector's, best score first);
 * - a track not seen for more than `maxGap` keyframes ends; a detection left unmatched starts a
 *   new track;
 * - ids count from 1 in order of first appearance.
 * The result depends only on the keyframes, never on how the video was split into clips, so the
 * pipeline runs it once per video at assembly time.
 */
import { iou } from './boxes.ts';
import { trackPeople, type ByteTrackOptions } from './bytetrack.ts';
import type { Box, KeyframeDetections } from './schema.ts';

export const TRACKERS = ['bytetrack', 'greedy'] as const;
export type TrackerName = (typeof TRACKERS)[number];
export const DEFAULT_TRACKER: TrackerName = 'bytetrack';

export type TrackerChoice = { tracker: 'bytetrack'; options?: Partial<ByteTrackOptions> } | { tracker: 'greedy'; options?: Partial<TrackOptions> };

/** Person ids for each keyframe's people, parallel to `keyframes[i].people`, by the tracker chosen (default ByteTrack). */
export function linkTracks(keyframes: readonly KeyframeDetections[], choice: TrackerChoice = { tracker: DEFAULT_TRACKER }): number[][] {
  return choice.tracker === 'greedy' ? linkTracksGreedy(keyframes, { ...DEFAULT_TRACK_OPTIONS, ...choice.options }) : trackPeople(keyframes, choice.options);
}

export interface TrackOptions {
  minIou: number;
  /** Keyframes a person may go unseen (occlusion, a missed detection) and keep their id. */
  maxGap: number;
}

export const DEFAULT_TRACK_OPTIONS: TrackOptions = { minIou: 0.3, maxGap: 1 };

interface LiveTrack {
  id: number;
  box: Box;
  lastIndex: number;
}

/** The greedy linker's person ids (faint people are not used). */
export function linkTracksGreedy(keyframes: readonly KeyframeDetections[], opts: TrackOptions = DEFAULT_TRACK_OPTIONS): number[][] {
  const order = keyframes.map((_, i) => i).sort((a, b) => keyframes[a]!.index - keyframes[b]!.index);
  const ids: number[][] = keyframes.map((k) => new Array<number>(k.people.length).fill(0));
  let live: LiveTrack[] = [];
  let next = 1;
  for (const i of order) {
    const kf = keyframes[i]!;
    live = live.filter((t) => kf.index - t.lastIndex - 1 <= opts.maxGap);
    const pairs: Array<{ track: number; det: number; overlap: number }> = [];
    live.forEach((t, ti) =>
      kf.people.forEach((p, di) => {
        const overlap = iou(t.box, p.box);
        if (overlap >= opts.minIou && overlap > 0) pairs.push({ track: ti, det: di, overlap });
      }),
    );
    pairs.sort((a, b) => b.overlap - a.overlap || live[a.track]!.id - live[b.track]!.id || a.det - b.det);
    const trackTaken = new Set<number>();
    const detTaken = new Set<number>();
    for (const p of pairs) {
      if (trackTaken.has(p.track) || detTaken.has(p.det)) continue;
      trackTaken.add(p.track);
      detTaken.add(p.det);
      const t = live[p.track]!;
      t.box = kf.people[p.det]!.box;
      t.lastIndex = kf.index;
      ids[i]![p.det] = t.id;
    }
    kf.people.forEach((p, di) => {
      if (detTaken.has(di)) return;
      const id = next++;
      live.push({ id, box: p.box, lastIndex: kf.index });
      ids[i]![di] = id;
    });
  }
  return ids;
}
