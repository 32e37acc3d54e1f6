/**
 * Timeline assembly (pure): the windows of every clip of one revision -> segments -> the timeline
 * segments the index stores. Deterministic: the same clips always give the same segments with the
 * same identity (core/index/order.ts), so an assembly repeated after a crash overwrites in place.
 */
import { VidxError } from '../errors.ts';
import type { Segment, WindowScore } from '../result.ts';
import type { KeyframeDetections, PersonSegment } from '../detection/schema.ts';
import type { TimelineOwner, TimelineSegment } from '../index/port.ts';
import { timelineOrderOf } from '../index/order.ts';


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

export function segmentItem(_owner: SegmentOwner, s: Segment): TimelineSegment {
  return { label: s.label, start: s.start, end: s.end, score: s.score, mean: s.mean, windows: s.windows };
}

/** Timeline segments, one per identity (two segments of one label never share a start: the better one stays). */
export function segmentItems(owner: SegmentOwner, segments: readonly Segment[]): TimelineSegment[] {
  const byKey = new Map<string, TimelineSegment>();
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
export function personSegmentItem(owner: SegmentOwner, s: PersonSegment): TimelineSegment {
  const { label, start, end, score, mean, keyframes, person, boxes } = s;
  return { ...segmentItem(owner, { label, start, end, score, mean, windows: keyframes }), kind: 'person', person, boxes };
}
