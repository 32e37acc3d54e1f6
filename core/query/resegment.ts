/**
 * Query-time segmentation (issue 11): a video's segments rebuilt from the per-window scores its
 * clip items already hold, with another threshold, gap or minimum duration, without the model.
 * The same functions as assembly (collectWindows, mergeSegments, segmentItems), so the defaults
 * give exactly the stored timeline: same segments, same identities, same order.
 */
import { VidxError, isVidxError } from '../errors.ts';
import { ClipWindowsSchema, type SegmentRecord } from '../records.ts';
import { collectWindows, segmentItems, type SegmentOwner } from '../pipeline/assemble.ts';
import { mergeSegments } from '../timeline/merge.ts';
import { DEFAULT_GAP, DEFAULT_THRESHOLD, UNTRAINED_THRESHOLD } from '../timeline/defaults.ts';
import type { LabelStreamRead, LabelStreamReader, SegmentHit } from './search.ts';
import { hitOf } from '../index/hits.ts';
import { compareTimeline } from '../index/order.ts';

export interface Segmentation {
  /** Probability a label needs in a window (0..1). */
  threshold: number;
  /** Windows below threshold a segment may bridge. */
  gap: number;
  /** Segments shorter than this (seconds) are dropped. */
  minDuration: number;
}

export type SegmentationParams = Partial<Segmentation>;

/** What assembly used: the model's default threshold (0 for untrained models), gap 1, no minimum. */
export function defaultSegmentation(trained: boolean): Segmentation {
  return { threshold: trained ? DEFAULT_THRESHOLD : UNTRAINED_THRESHOLD, gap: DEFAULT_GAP, minDuration: 0 };
}

export function asksForSegmentation(p: SegmentationParams): boolean {
  return p.threshold !== undefined || p.gap !== undefined || p.minDuration !== undefined;
}

/** What re-segmentation reads of a clip result: its index and its window scores (JSON text). */
export interface StoredClip {
  index: number;
  windows: string;
}

/**
 * Segments of one revision rebuilt from its clips, in timeline order (as stored).
 * A clip missing means the revision is being replaced right now (its clips are deleted when the
 * next revision commits): TIMELINE_CHANGING, try again.
 */
export function resegment(owner: SegmentOwner, clips: readonly StoredClip[], clipsTotal: number, s: Segmentation): SegmentRecord[] {
  let windows;
  try {
    windows = collectWindows(
      clips.map((c) => ({ index: c.index, windows: ClipWindowsSchema.parse(JSON.parse(c.windows)) })),
      clipsTotal,
    );
  } catch (e) {
    if (!isVidxError(e, 'ASSEMBLY_INCOMPLETE')) throw e;
    throw new VidxError('TIMELINE_CHANGING', 'the timeline is being replaced by a new revision right now, so its windows cannot be read', {
      hint: 'ask again in a few seconds',
      cause: e,
    });
  }
  const segments = mergeSegments(windows, { threshold: s.threshold, gap: s.gap }).filter((x) => x.end - x.start >= s.minDuration);
  return segmentItems(owner, segments)
    .map((x) => ({ ...x, videoId: owner.videoId, key: owner.key, etag: owner.etag }))
    .sort(compareTimeline);
}

/** Recomputed segments of one video served as label streams, so search pages them as usual. */
export class InMemoryLabelStreams implements LabelStreamReader {
  private readonly hits: SegmentHit[];
  constructor(items: readonly SegmentRecord[]) {
    this.hits = items.map((i) => hitOf(i, true)).sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  }

  async searchLabel(read: LabelStreamRead): Promise<{ items: SegmentHit[]; more: boolean }> {
    const list = this.hits.filter(
      (h) => h.label === read.label && h.score >= read.minScore && (read.videoId === undefined || h.videoId === read.videoId) && (read.after === undefined || h.rank > read.after),
    );
    return { items: list.slice(0, read.want), more: list.length > read.want };
  }
}
