/**
 * Query-time segmentation: a video's timeline rebuilt from the per-window scores its clip items
 * already hold, with another threshold, gap or minimum duration, without the model. It is the
 * assembly's own builder (core/pipeline/assemble.ts buildTimeline), so the defaults give exactly
 * the stored timeline: same segments, same identities, same order. The parameters are those of window
 * scores; person segments (detection) are kept as stored, see PersonSource.
 */
import { VidxError, isVidxError } from '../errors.ts';
import { ClipWindowsSchema, type SegmentRecord } from '../records.ts';
import { buildTimeline, type Segmentation, type SegmentOwner } from '../pipeline/assemble.ts';
import { DEFAULT_GAP, DEFAULT_THRESHOLD, UNTRAINED_THRESHOLD } from '../timeline/defaults.ts';
import type { LabelStreamRead, LabelStreamReader, SegmentHit } from './search.ts';
import { hitOf } from '../index/hits.ts';

export type { Segmentation } from '../pipeline/assemble.ts';

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
 * Segment items of one revision rebuilt from its clips, in the stored order (by sort key): the
 * clip-level ones with `s`, the revision's person segments among `stored` as they are.
 * A clip missing means the revision is being replaced right now (its clips are deleted when the
 * next revision commits): TIMELINE_CHANGING, try again.
 */
export function resegment(owner: SegmentOwner, clips: readonly StoredClip[], clipsTotal: number, s: Segmentation, stored: readonly SegmentRecord[]): SegmentRecord[] {
  try {
    return buildTimeline(owner, clips.map((c) => ({ index: c.index, windows: ClipWindowsSchema.parse(JSON.parse(c.windows)) })), clipsTotal, s, { from: 'stored', items: stored }).items;
  } catch (e) {
    if (!isVidxError(e, 'ASSEMBLY_INCOMPLETE')) throw e;
    throw new VidxError('TIMELINE_CHANGING', 'the timeline is being replaced by a new revision right now, so its windows cannot be read', {
      hint: 'ask again in a few seconds',
      cause: e,
    });
  }
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
