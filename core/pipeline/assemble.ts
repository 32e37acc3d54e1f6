/**
 * Timeline building (pure): the windows and keyframes of every clip of one revision -> segments ->
 * the timeline segments the index stores. `buildTimeline` is the one builder: assembly (after the last
 * clip) and query-time segmentation (core/query/resegment.ts) both call it. Deterministic: the same
 * clips always give the same segments with the same identity (core/index/order.ts), so an assembly repeated after a crash
 * overwrites in place and converges, and the assembly parameters given at query time reproduce
 * the stored timeline exactly.
 */
import { VidxError } from '../errors.ts';
import type { Segment, WindowScore } from '../result.ts';
import type { KeyframeDetections, PersonSegment } from '../detection/schema.ts';
import { buildPersonSegments, type PersonSegmentOptions } from '../detection/person-segments.ts';
import { linkTracks } from '../detection/tracks.ts';
import { mergeSegments } from '../timeline/merge.ts';
import type { SegmentRecord } from '../records.ts';
import type { TimelineOwner } from '../index/port.ts';
import { compareTimeline, timelineOrderOf } from '../index/order.ts';


export interface ClipWindows {
  index: number;
  windows: readonly WindowScore[];
}

/**
 * All windows of a revision in index order. Every clip 0..clipsTotal-1 must be present; a window
 * index seen in two clips is a planning bug and raises rather than being silently merged.
 */
export function collectWindows(clips: readonly ClipWindows[], clipsTotal: number): WindowScore[] {
  const have = new Set(clips.map((c) => c.index));
  const missing: number[] = [];
  for (let i = 0; i < clipsTotal; i++) if (!have.has(i)) missing.push(i);
  if (missing.length > 0) {
    throw new VidxError('ASSEMBLY_INCOMPLETE', `clip result(s) ${missing.join(', ')} of ${clipsTotal} are missing`);
  }
  const byIndex = new Map<number, WindowScore>();
  for (const c of [...clips].sort((a, b) => a.index - b.index)) {
    for (const w of c.windows) {
      if (byIndex.has(w.index)) throw new VidxError('ASSEMBLY_INCOMPLETE', `window ${w.index} appears in two clips`);
      byIndex.set(w.index, w);
    }
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

/** The revision a timeline's segments belong to. */
export type SegmentOwner = TimelineOwner;

/** A timeline segment of the revision (its identity: core/index/order.ts timelineOrderOf). */
export function segmentItem(owner: SegmentOwner, s: Segment): SegmentRecord {
  return { videoId: owner.videoId, key: owner.key, etag: owner.etag, label: s.label, start: s.start, end: s.end, score: s.score, mean: s.mean, windows: s.windows };
}

/** Timeline segments, one per identity (two segments of one label never share a start: the better one stays). */
export function segmentItems(owner: SegmentOwner, segments: readonly Segment[]): SegmentRecord[] {
  const byKey = new Map<string, SegmentRecord>();
  for (const s of segments) {
    const item = segmentItem(owner, s);
    const key = timelineOrderOf(item);
    const prev = byKey.get(key);
    if (!prev || prev.score < item.score) byKey.set(key, item);
  }
  return [...byKey.values()];
}

export interface ClipKeyframes {
  index: number;
  keyframes: readonly KeyframeDetections[];
}

/** All keyframes of a revision in index order; a keyframe in two clips is a planning bug and raises. */
export function collectKeyframes(clips: readonly ClipKeyframes[]): KeyframeDetections[] {
  const byIndex = new Map<number, KeyframeDetections>();
  for (const c of clips) {
    for (const k of c.keyframes) {
      if (byIndex.has(k.index)) throw new VidxError('ASSEMBLY_INCOMPLETE', `keyframe ${k.index} appears in two clips`);
      byIndex.set(k.index, k);
    }
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

/** A person segment: found by label like a clip-level one, told apart by its person. */
export function personSegmentItem(owner: SegmentOwner, s: PersonSegment): SegmentRecord {
  const { label, start, end, score, mean, keyframes, person, boxes } = s;
  return { ...segmentItem(owner, { label, start, end, score, mean, windows: keyframes }), kind: 'person', person, boxes };
}

/** How clip-level segments are made from window scores. */
export interface Segmentation {
  /** Probability a label needs in a window (0..1). */
  threshold: number;
  /** Windows below threshold a segment may bridge. */
  gap: number;
  /** Segments shorter than this (seconds) are dropped. */
  minDuration: number;
}

/** One clip's stored payload, parsed: its windows and, where people were detected, its keyframes. */
export interface ClipPayload extends ClipWindows {
  keyframes?: readonly KeyframeDetections[] | undefined;
}

/**
 * Where the person segments of a timeline come from:
 * - `keyframes`: built from the clips' keyframes (tracks linked over the whole video, then runs of
 *   keyframes per track and action); no options = the deployment does not detect people;
 * - `stored`: the person segments the revision's assembly wrote, kept as they are. Query-time
 *   segmentation uses this: its parameters are those of window scores (a softmax over the clip
 *   classifier's labels), which mean nothing for the per-person action sigmoids of keyframes.
 */
export type PersonSource =
  | { from: 'keyframes'; options: PersonSegmentOptions | undefined }
  | { from: 'stored'; items: readonly SegmentRecord[] };

export interface BuiltTimeline {
  /** Every window of the revision, in index order. */
  windows: WindowScore[];
  /** The revision's segments (clip-level and person), in timeline order. */
  items: SegmentRecord[];
}

/**
 * The one timeline builder. Clip-level segments: the windows of clips 0..clipsTotal-1 merged with
 * `segmentation` (ASSEMBLY_INCOMPLETE when a clip is missing); person segments: from `people`.
 */
export function buildTimeline(owner: SegmentOwner, clips: readonly ClipPayload[], clipsTotal: number, segmentation: Segmentation, people: PersonSource): BuiltTimeline {
  const windows = collectWindows(clips, clipsTotal);
  const segments = mergeSegments(windows, { threshold: segmentation.threshold, gap: segmentation.gap }).filter((s) => s.end - s.start >= segmentation.minDuration);
  return { windows, items: [...segmentItems(owner, segments), ...personItems(owner, clips, people)].sort(compareTimeline) };
}

function personItems(owner: SegmentOwner, clips: readonly ClipPayload[], people: PersonSource): SegmentRecord[] {
  if (people.from === 'stored') return people.items.filter((i) => i.kind === 'person' && i.videoId === owner.videoId && i.etag === owner.etag);
  if (!people.options) return [];
  // Tracks are linked over the whole video, once every clip is in: they must not depend on how
  // the video was split into clips or on the order the clips finished.
  const keyframes = collectKeyframes(clips.map((c) => ({ index: c.index, keyframes: c.keyframes ?? [] })));
  if (keyframes.length === 0) return [];
  return buildPersonSegments(keyframes, linkTracks(keyframes), people.options).map((s) => personSegmentItem(owner, s));
}
