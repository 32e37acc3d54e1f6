import { describe, expect, it } from 'vitest';
import { compareHits, searchSegments, type LabelStreamRead, type LabelStreamReader, type SegmentHit } from '../../core/query/search.ts';
import { rankOf } from '../../core/index/order.ts';

/** An in-memory label index with the same semantics as the GSI (ascending sort key). */
class MemoryIndex implements LabelStreamReader {
  reads: LabelStreamRead[] = [];
  constructor(private readonly hits: SegmentHit[]) {}
  async searchLabel(r: LabelStreamRead) {
    this.reads.push(r);
    const all = this.hits
      .filter((h) => h.label === r.label && h.score >= r.minScore && (r.videoId === undefined || h.videoId === r.videoId))
      .sort((a, b) => (a.rank < b.rank ? -1 : 1))
      .filter((h) => r.after === undefined || h.rank > r.after);
    return { items: all.slice(0, r.want), more: all.length > r.want };
  }
}

function hit(label: string, videoId: string, start: number, score: number): SegmentHit {
  return { videoId, key: `videos/${videoId}.mp4`, label, start, end: start + 2, score, mean: score, windows: 1, kind: 'clip', rank: rankOf({ score, videoId, start }), position: rankOf({ score, videoId, start }) };
}

const V = ['a'.repeat(20), 'b'.repeat(20), 'c'.repeat(20)];
const LABELS = ['dribbling basketball', 'playing basketball', 'shooting basketball'];

function dataset(): SegmentHit[] {
  const out: SegmentHit[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const label of LABELS)
    for (const v of V)
      for (let i = 0; i < 9; i++) out.push(hit(label, v, i * 4, Math.round(rnd() * 20) / 20)); // coarse: many ties
  // exact ties across labels: same video, start and score
  for (const label of LABELS) out.push(hit(label, V[0]!, 100, 0.5));
  return out;
}

async function allPages(index: LabelStreamReader, labels: string[], limit: number, minScore = 0, videoId?: string) {
  const pages: SegmentHit[][] = [];
  let positions: Record<string, string> | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await searchSegments(index, { labels, minScore, videoId, limit, positions });
    pages.push(page.items);
    if (!page.next) break;
    expect(page.items).toHaveLength(limit); // a next cursor is only issued when a page is full
    positions = page.next;
  }
  return pages;
}

describe('k-way merge of label streams', () => {
  const data = dataset();
  const expected = (pred: (h: SegmentHit) => boolean) => data.filter(pred).sort(compareHits);

  for (const limit of [1, 4, 7, 20, 100]) {
    it(`pages of ${limit}: best first, no duplicates, no gaps`, async () => {
      const pages = await allPages(new MemoryIndex(data), LABELS, limit);
      const flat = pages.flat();
      expect(flat).toEqual(expected(() => true));
      for (let i = 1; i < flat.length; i++) expect(flat[i - 1]!.score).toBeGreaterThanOrEqual(flat[i]!.score);
      expect(pages.at(-1)!.length).toBeGreaterThan(0); // never an empty last page
    });
  }

  it('applies minScore and videoId in every stream', async () => {
    const flat = (await allPages(new MemoryIndex(data), LABELS, 5, 0.6, V[1])).flat();
    expect(flat).toEqual(expected((h) => h.score >= 0.6 && h.videoId === V[1]));
    expect(flat.length).toBeGreaterThan(0);
  });

  it('reads at most `limit` items per stream per page and drops finished streams from the cursor', async () => {
    const index = new MemoryIndex([hit('playing basketball', V[0]!, 0, 0.9), ...data.filter((h) => h.label === 'dribbling basketball')]);
    const page = await searchSegments(index, { labels: ['playing basketball', 'dribbling basketball'], minScore: 0, videoId: undefined, limit: 3, positions: undefined });
    expect(index.reads.every((r) => r.want === 3)).toBe(true);
    if (page.items.some((h) => h.label === 'playing basketball')) expect(page.next?.['playing basketball']).toBeUndefined();
  });

  it('returns an empty page without a cursor when nothing matches', async () => {
    const page = await searchSegments(new MemoryIndex(data), { labels: ['yoga'], minScore: 0, videoId: undefined, limit: 10, positions: undefined });
    expect(page).toEqual({ items: [], next: undefined });
  });
});
