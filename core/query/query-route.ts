/**
 * `POST /query`: reads the JSON body (bounded), validates it with the one question schema, runs it
 * over the index and answers a page of hits with their evidence.
 */
import { segmentView } from './views.ts';
import { VidxError } from '../errors.ts';
import { decodeCursor, encodeCursor, scopeOf } from './cursor.ts';
import { MAX_QUERY_BODY_BYTES, QuerySchema, type Query } from './language.ts';
import { checkQueryPositions, runQuery, type QuerySegment, type QuerySource } from './run-query.ts';
import type { QueryHit, QueryResponse, SegmentView } from './responses.ts';

export interface QueryRouteDeps {
  index: QuerySource;
  cursorSecret: Buffer;
  /** The thumbnail URL of a segment, where it has one and the API can sign. */
  thumbnailOf(segment: QuerySegment): Promise<{ thumbnail?: string }>;
}

/** Parses and validates a `POST /query` body. */
export function parseQueryBody(body: string | undefined): Query {
  if (body === undefined || body.trim() === '') throw new VidxError('INVALID_PARAMETER', 'the body is required: a JSON question', { hint: 'see README "Questions about sequences and crowds"' });
  if (Buffer.byteLength(body, 'utf8') > MAX_QUERY_BODY_BYTES) throw new VidxError('PAYLOAD_TOO_LARGE', `the question is larger than ${MAX_QUERY_BODY_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (_e) {
    throw new VidxError('INVALID_PARAMETER', 'the body is not JSON', { hint: 'send a JSON question with content-type application/json' });
  }
  const r = QuerySchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    throw new VidxError('UNKNOWN_PARAMETER', `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`, { hint: 'see README "Questions about sequences and crowds"' });
  }
  const where = issue?.path.map(String).join('.') || 'question';
  throw new VidxError('INVALID_PARAMETER', `${where}: ${issue?.message ?? 'invalid question'}`, { hint: 'see README "Questions about sequences and crowds"' });
}

/** The question without its paging fields: what a cursor is bound to. */
function questionOf(q: Query): Record<string, unknown> {
  const { cursor: _cursor, limit: _limit, ...rest } = q;
  return rest;
}

export async function answerQuery(deps: QueryRouteDeps, body: string | undefined): Promise<QueryResponse> {
  const q = parseQueryBody(body);
  const question = questionOf(q);
  const scope = scopeOf({ r: 'query', q: JSON.stringify(question) });
  const from = q.cursor === undefined ? undefined : checkQueryPositions(decodeCursor(deps.cursorSecret, scope, q.cursor), q);
  const page = await runQuery(deps.index, q, from);
  const view = async (s: QuerySegment): Promise<SegmentView> => ({ ...segmentView(s), ...(await deps.thumbnailOf(s)) });
  const items = await Promise.all(
    page.items.map(async ({ video, match }): Promise<QueryHit> => {
      const evidence = await Promise.all(match.evidence.map(view));
      const thumbnail = evidence.find((e) => e.thumbnail !== undefined)?.thumbnail;
      return {
        videoId: video.videoId,
        key: video.key,
        start: match.start,
        end: match.end,
        ...(match.person !== undefined ? { person: match.person } : {}),
        ...(match.people !== undefined ? { people: match.people } : {}),
        ...(thumbnail !== undefined ? { thumbnail } : {}),
        evidence,
      };
    }),
  );
  return { query: { ...question, limit: q.limit }, items, nextCursor: page.next ? encodeCursor(deps.cursorSecret, scope, page.next) : null, videosRead: page.videosRead };
}
