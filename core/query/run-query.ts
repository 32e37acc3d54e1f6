/**
 * `POST /query` over the index: walks the videos (the asked ones in the order given, else every
 * video newest first), evaluates the question on each indexed video's segments of its current
 * revision, and pages the hits. A page reads at most MAX_VIDEOS_PER_PAGE videos, so a page can be
 * short (even empty) while `nextCursor` is still set: the client follows it until it is null.
 *
 * Cursor positions: `V` = the index's position of the listing page the resume video is on ('' =
 * the first page; the index checks it is one it issued) and `O` = the resume video's place on that
 * page, or `I` = the index of the resume video in the asked list; `S` = how many hits of the resume
 * video earlier pages already returned. Listing pages are always LIST_PAGE long, so a position
 * names the same page again.
 */
import { invalidCursor, type Positions } from './cursor.ts';
import { evaluate, type EvalSegment, type QueryMatch } from './evaluate.ts';
import type { Query } from './language.ts';
import type { VideoIndex } from '../index/port.ts';
import type { SegmentRecord } from '../records.ts';

type Item = { videoId: string; key: string; etag: string; status: string };

/** What the query reads of the index. */
export type QuerySource = Pick<VideoIndex, 'getVideo' | 'listVideos' | 'timelineOf'>;

/** A stored segment as the evaluator reads it (items written before kinds existed are clip-level). */
export type QuerySegment = SegmentRecord & EvalSegment;

/** Videos one page reads at most (bounds a request's time whatever the question). */
export const MAX_VIDEOS_PER_PAGE = 200;
const LIST_PAGE = 50;

export interface VideoMatch {
  video: Item;
  match: QueryMatch<QuerySegment>;
}

export interface QueryPage {
  items: VideoMatch[];
  next: Positions | undefined;
  videosRead: number;
}

interface Visit {
  item: Item | undefined;
  /** The position that resumes at this video. */
  at: Positions;
  /** The position that resumes after it; undefined = it was the last one. */
  after: Positions | undefined;
}

/** The asked videos: those of `videos`, narrowed to `video` for a person question. */
function askedVideos(q: Query): string[] | undefined {
  if (q.find === 'person') return q.videos === undefined || q.videos.includes(q.video) ? [q.video] : [];
  return q.videos === undefined ? undefined : [...new Set(q.videos)];
}

/** Checks a cursor's positions against the question's shape of walk. */
export function checkQueryPositions(p: Positions, q: Query): Positions {
  const listed = askedVideos(q) !== undefined;
  const keys = Object.keys(p).sort().join(',');
  if (keys !== (listed ? 'I,S' : 'O,S,V')) throw invalidCursor('cursor position is outside this query');
  if (!/^\d{1,9}$/.test(p.S!)) throw invalidCursor('cursor position is malformed');
  if (listed && !/^\d{1,3}$/.test(p.I!)) throw invalidCursor('cursor position is malformed');
  if (!listed && !(/^\d{1,3}$/.test(p.O!) && Number(p.O) < LIST_PAGE)) throw invalidCursor('cursor position is malformed');
  return p;
}

async function* visits(source: QuerySource, q: Query, from: Positions | undefined): AsyncGenerator<Visit> {
  const asked = askedVideos(q);
  if (asked !== undefined) {
    for (let i = Number(from?.I ?? 0); i < asked.length; i++) {
      yield { item: await source.getVideo(asked[i]!), at: { I: String(i) }, after: i + 1 < asked.length ? { I: String(i + 1) } : undefined };
    }
    return;
  }
  let page = from?.V ?? '';
  let offset = Number(from?.O ?? 0);
  for (;;) {
    const r = await source.listVideos({ limit: LIST_PAGE, ...(page === '' ? {} : { after: page }) });
    for (let i = offset; i < r.items.length; i++) {
      const after = i + 1 < r.items.length ? { V: page, O: String(i + 1) } : r.next !== undefined ? { V: r.next, O: '0' } : undefined;
      yield { item: r.items[i], at: { V: page, O: String(i) }, after };
    }
    if (r.next === undefined) return;
    page = r.next;
    offset = 0;
  }
}

/** The segments of the video's indexed revision, as the evaluator reads them. */
async function segmentsOf(source: QuerySource, video: Item): Promise<QuerySegment[]> {
  const stored = await source.timelineOf(video.videoId);
  return stored.filter((s) => s.etag === video.etag).map((s) => ({ ...s, kind: s.kind ?? 'clip' }));
}

export async function runQuery(source: QuerySource, q: Query, from: Positions | undefined): Promise<QueryPage> {
  const items: VideoMatch[] = [];
  let skip = Number(from?.S ?? 0);
  let videosRead = 0;
  for await (const v of visits(source, q, from)) {
    if (videosRead === MAX_VIDEOS_PER_PAGE) return { items, next: { ...v.at, S: '0' }, videosRead };
    videosRead++;
    const video = v.item;
    if (video && video.status === 'indexed') {
      const rest = evaluate(q, await segmentsOf(source, video)).slice(skip);
      const taken = rest.slice(0, q.limit - items.length);
      items.push(...taken.map((match) => ({ video, match })));
      if (taken.length < rest.length) return { items, next: { ...v.at, S: String(skip + taken.length) }, videosRead };
    }
    skip = 0;
    if (items.length === q.limit) return { items, next: v.after ? { ...v.after, S: '0' } : undefined, videosRead };
  }
  return { items, next: undefined, videosRead };
}
