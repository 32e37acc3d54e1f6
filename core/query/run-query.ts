/**
 * `POST /query` over the index: walks the videos (the asked ones in the order given, else every
 * video newest first), evaluates the question on each indexed video's segments of its current
 * revision, and pages the hits. A page reads at most MAX_VIDEOS_PER_PAGE videos, so a page can be
 * short (even empty) while `nextCursor` is still set: the client follows it until it is null.
 *
 * Cursor positions: `V` = the GSI1SK of the last video read before the resume video ('' = from the
 * first) or `I` = the index of the resume video in the asked list; `S` = how many hits of the
 * resume video earlier pages already returned.
 */
import { invalidCursor, type Positions } from './cursor.ts';
import { evaluate, type QueryMatch } from './evaluate.ts';
import type { Query } from './language.ts';
import { VIDEO_SORT_KEY } from './positions.ts';
import { segmentHitOf } from './views.ts';
import type { SegmentHit } from './search.ts';

type Item = Record<string, unknown>;

/** What the query reads of the index (the API's QueryIndex satisfies it). */
export interface QuerySource {
  getVideo(videoId: string): Promise<Item | undefined>;
  listVideos(limit: number, after: string | undefined): Promise<{ items: Item[]; more: boolean }>;
  segmentsOf(videoId: string): Promise<{ items: Item[]; truncated: boolean }>;
}

/** Videos one page reads at most (bounds a request's time whatever the question). */
export const MAX_VIDEOS_PER_PAGE = 200;
const LIST_PAGE = 50;

export interface VideoMatch {
  video: Item;
  match: QueryMatch<SegmentHit>;
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
  if (keys !== (listed ? 'I,S' : 'S,V')) throw invalidCursor('cursor position is outside this query');
  if (!/^\d{1,9}$/.test(p.S!)) throw invalidCursor('cursor position is malformed');
  if (listed && !/^\d{1,3}$/.test(p.I!)) throw invalidCursor('cursor position is malformed');
  if (!listed && p.V !== '' && !VIDEO_SORT_KEY.test(p.V!)) throw invalidCursor('cursor position is not a video position');
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
  let before = from?.V ?? '';
  for (;;) {
    const page = await source.listVideos(LIST_PAGE, before === '' ? undefined : before);
    for (let i = 0; i < page.items.length; i++) {
      const item = page.items[i]!;
      const sk = String(item.GSI1SK);
      const last = i === page.items.length - 1 && !page.more;
      yield { item, at: { V: before }, after: last ? undefined : { V: sk } };
      before = sk;
    }
    if (!page.more || page.items.length === 0) return;
  }
}

/** The segments of the video's indexed revision, as the evaluator reads them. */
async function segmentsOf(source: QuerySource, video: Item): Promise<SegmentHit[]> {
  const r = await source.segmentsOf(String(video.videoId));
  return r.items.filter((s) => s.etag === video.etag).map(segmentHitOf);
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
