/** A stored segment as a search hit: what the API shows, its rank, and (where the read returns them) its boxes. */
import type { SegmentRecord } from '../records.ts';
import { rankOf } from './order.ts';
import type { SegmentHit } from './port.ts';

/** `position` = the rank: a single stream's place after this hit (a sharded store composes its own). */
export function hitOf(s: SegmentRecord, withBoxes: boolean): SegmentHit {
  const rank = rankOf(s);
  return {
    videoId: s.videoId,
    key: s.key,
    label: s.label,
    start: s.start,
    end: s.end,
    score: s.score,
    mean: s.mean,
    windows: s.windows,
    kind: s.kind ?? 'clip',
    ...(s.person !== undefined ? { person: s.person } : {}),
    ...(withBoxes && s.boxes ? { boxes: s.boxes } : {}),
    rank,
    position: rank,
    etag: s.etag,
    ...(s.thumbAt !== undefined ? { thumbAt: s.thumbAt } : {}),
  };
}

