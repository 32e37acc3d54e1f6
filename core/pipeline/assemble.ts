/**
 * Timeline assembly (pure): the windows of every clip of one revision -> segments -> the segment
 * items of the index. Deterministic: the same clips always give the same items with the same
 * keys, so an assembly repeated after a crash overwrites in place and converges.
 */
import { VidxError } from '../errors.ts';
import type { Segment, WindowScore } from '../result.ts';
import type { KeyframeDetections, PersonSegment } from '../detection/schema.ts';
import { labelGsiPk, labelGsiSk, personSegmentSk, segmentSk, videoPk, type SegmentRecord } from '../records.ts';


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

export interface SegmentOwner {
  videoId: string;
  key: string;
  etag: string;
}

export function segmentItem(owner: SegmentOwner, s: Segment): SegmentRecord {
  return {
    PK: videoPk(owner.videoId),
    SK: segmentSk(s.start, s.label),
    GSI1PK: labelGsiPk(s.label),
    GSI1SK: labelGsiSk(s.score, owner.videoId, s.start),
    videoId: owner.videoId,
    key: owner.key,
    etag: owner.etag,
    label: s.label,
    start: s.start,
    end: s.end,
    score: s.score,
    mean: s.mean,
    windows: s.windows,
  };
}

/** Segment items, one per distinct key (two segments of one label never share a start). */
export function segmentItems(owner: SegmentOwner, segments: readonly Segment[]): SegmentRecord[] {
  const byKey = new Map<string, SegmentRecord>();
  for (const s of segments) {
    const item = segmentItem(owner, s);
    const prev = byKey.get(item.SK);
    if (!prev || prev.score < item.score) byKey.set(item.SK, item);
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

/** A person segment item: found by label through GSI1 like a clip-level one, keyed apart by person. */
export function personSegmentItem(owner: SegmentOwner, s: PersonSegment): SegmentRecord {
  const { label, start, end, score, mean, keyframes, person, boxes } = s;
  return { ...segmentItem(owner, { label, start, end, score, mean, windows: keyframes }), SK: personSegmentSk(start, label, person), kind: 'person', person, boxes };
}
