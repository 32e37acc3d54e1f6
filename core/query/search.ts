/**
 * Search across videos: one stream per label (best score first, however the index stores it),
 * merged k-way by rank into pages. Pure: the streams are read through the index's searchLabel.
 *
 * Paging: a page takes up to `limit` items from each live stream (each read peeks one further
 * so "is there more" is exact), merges them and keeps the best `limit`. Each stream's new
 * position is the position of the last item of it that made the page; a stream whose items
 * were all used and which has nothing more is finished. Because positions are per stream,
 * pages have no duplicates and no gaps even when items of different labels tie, and the next
 * cursor is issued only if something is left (no empty last page).
 */
import type { Positions } from './cursor.ts';
import type { LabelSearch, LabelSearcher, SegmentHit } from '../index/port.ts';

export type { SegmentHit };
/** The label streams search reads (the index, or one video's recomputed segments). */
export type LabelStreamReader = LabelSearcher;
export type LabelStreamRead = LabelSearch;

export interface SearchRequest {
  labels: readonly string[];
  minScore: number;
  videoId: string | undefined;
  limit: number;
  /** From a checked cursor; undefined = first page (every label from the start). */
  positions: Positions | undefined;
}

export interface SearchPage {
  items: SegmentHit[];
  /** Positions for the next page; undefined when nothing is left. */
  next: Positions | undefined;
}

export function compareHits(a: SegmentHit, b: SegmentHit): number {
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  return a.label < b.label ? -1 : a.label > b.label ? 1 : 0;
}

export async function searchSegments(reader: LabelStreamReader, req: SearchRequest): Promise<SearchPage> {
  const live = req.positions
    ? req.labels.filter((l) => req.positions![l] !== undefined).map((l) => ({ label: l, after: req.positions![l] || undefined }))
    : req.labels.map((l) => ({ label: l, after: undefined as string | undefined }));

  const streams = await Promise.all(
    live.map(async (s) => {
      const r = await reader.searchLabel({ label: s.label, after: s.after, minScore: req.minScore, videoId: req.videoId, want: req.limit });
      return { ...s, items: r.items, more: r.more, used: 0 };
    }),
  );

  const items: SegmentHit[] = [];
  while (items.length < req.limit) {
    let best: (typeof streams)[number] | undefined;
    for (const s of streams) {
      const head = s.items[s.used];
      if (head && (!best || compareHits(head, best.items[best.used]!) < 0)) best = s;
    }
    if (!best) break;
    items.push(best.items[best.used]!);
    best.used++;
  }

  const next: Positions = {};
  for (const s of streams) {
    const finished = s.used === s.items.length && !s.more;
    if (finished) continue;
    next[s.label] = s.used > 0 ? s.items[s.used - 1]!.position : (s.after ?? '');
  }
  return { items, next: Object.keys(next).length > 0 ? next : undefined };
}
