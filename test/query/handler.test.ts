/**
 * The query handler against dynalite (in-process) with items in the pipeline's exact layout,
 * called with realistic API Gateway HTTP API v2 events.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { encodeCursor, scopeOf } from '../../core/query/cursor.ts';
import { videoIdFor } from '../../core/records.ts';
import { createQueryHandler, type QueryHandler } from '../../lambdas/query/app.ts';
import { startTable, type TestTable } from './helpers/dynamo.ts';
import { apigwEvent } from './helpers/events.ts';
import { rankOfSeed, segmentItem, videoItem, type SeedSegment } from './helpers/seed.ts';
import { kinetics400 } from './helpers/vocabulary.ts';

const SECRET = Buffer.from('integration-secret');
const BASKETBALL = ['dribbling basketball', 'dunking basketball', 'playing basketball', 'shooting basketball'];
const KEYS = ['videos/court one.mp4', 'videos/court-two.mp4', 'videos/ñandú/three.mp4'];
const IDS = KEYS.map((k) => videoIdFor('vidx-videos', k));
const PENDING_KEY = 'videos/pending.mp4';
const PENDING_ID = videoIdFor('vidx-videos', PENDING_KEY);
const FAILED_KEY = 'videos/notes.txt';

/** Deterministic segments with coarse scores (many ties) and exact cross-label ties. */
function segments(): SeedSegment[] {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: SeedSegment[] = [];
  for (const label of ['playing basketball', 'dribbling basketball', 'shooting basketball', 'playing cricket'])
    KEYS.forEach((key, v) => {
      for (let i = 0; i < 8; i++) out.push({ videoId: IDS[v]!, key, label, start: i * 5.5, end: i * 5.5 + 4, score: Math.round(rnd() * 20) / 20 });
    });
  for (const label of ['playing basketball', 'dribbling basketball', 'shooting basketball'])
    out.push({ videoId: IDS[0]!, key: KEYS[0]!, label, start: 100, end: 104, score: 0.55 });
  return out;
}

/** The order the API promises: rank ascending (best score first), ties by label. */
function expectedOrder(list: SeedSegment[]): SeedSegment[] {
  const sk = (s: SeedSegment) => rankOfSeed(s);
  return [...list].sort((a, b) => (sk(a) < sk(b) ? -1 : sk(a) > sk(b) ? 1 : a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

const ident = (s: { videoId?: unknown; label?: unknown; start?: unknown }) => `${s.videoId}|${s.label}|${s.start}`;

let table: TestTable;
let handler: QueryHandler;
const SEGS = segments();

interface Res {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown> & { items?: Record<string, unknown>[]; nextCursor?: string | null };
}

async function call(method: string, url: string, stage?: string): Promise<Res> {
  const r = await handler(apigwEvent(method, url, stage ? { stage } : {}));
  return { status: r.statusCode ?? 0, headers: r.headers as Record<string, string>, body: JSON.parse(r.body ?? 'null') };
}
const get = (url: string) => call('GET', url);

async function allPages(url: string): Promise<{ pages: Record<string, unknown>[][]; cursors: string[] }> {
  const pages: Record<string, unknown>[][] = [];
  const cursors: string[] = [];
  let cursor: string | null | undefined;
  for (let guard = 0; guard < 200; guard++) {
    const r = await get(cursor ? `${url}&cursor=${encodeURIComponent(cursor)}` : url);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    pages.push(r.body.items!);
    cursor = r.body.nextCursor;
    if (!cursor) return { pages, cursors };
    cursors.push(cursor);
  }
  throw new Error('pagination did not end');
}

beforeAll(async () => {
  table = await startTable();
  await table.put([
    videoItem(KEYS[0]!, '2026-11-23T10:00:00.000Z'),
    videoItem(KEYS[1]!, '2026-11-23T10:05:00.000Z'),
    videoItem(KEYS[2]!, '2026-11-23T10:10:00.000Z'),
    videoItem(PENDING_KEY, '2026-11-23T10:20:00.000Z', { status: 'processing', doneClips: new Set([0]), indexedAt: undefined }),
    videoItem(FAILED_KEY, '2026-11-23T10:15:00.000Z', { status: 'failed', reason: 'notes.txt has no video stream', errorCode: 'NOT_A_VIDEO', clipsTotal: 0, doneClips: undefined }),
    ...SEGS.map(segmentItem),
  ]);
  handler = createQueryHandler({
    index: new DynamoIndex(table.doc, table.tableName),
    vocabulary: kinetics400(),
    cursorSecret: SECRET,
    logger: new Logger({ serviceName: 'vidx-query-test', logLevel: 'SILENT' }),
  });
});

afterAll(async () => {
  await table?.close();
});

describe('GET /search', () => {
  it('returns one label best first across videos, as JSON', async () => {
    const r = await get('/search?action=playing%20cricket&limit=100');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const want = expectedOrder(SEGS.filter((s) => s.label === 'playing cricket'));
    expect(r.body.items!.map(ident)).toEqual(want.map(ident));
    expect(new Set(r.body.items!.map((i) => i.videoId)).size).toBe(3);
    expect(r.body.nextCursor).toBeNull();
    expect(r.body.items![0]).toEqual({ videoId: want[0]!.videoId, key: want[0]!.key, label: 'playing cricket', start: want[0]!.start, end: want[0]!.end, score: want[0]!.score, mean: expect.any(Number), windows: 2, kind: 'clip' });
    expect(r.body.query).toMatchObject({ action: 'playing cricket', minScore: 0, labels: [{ label: 'playing cricket' }] });
  });

  it('q= resolves typos to the matching labels and merges their streams by score', async () => {
    const r = await get('/search?q=basketbal&limit=100');
    expect(r.status).toBe(200);
    expect((r.body.query as { labels: { label: string }[] }).labels.map((l) => l.label)).toEqual(BASKETBALL);
    const want = expectedOrder(SEGS.filter((s) => s.label.endsWith('basketball')));
    expect(r.body.items!.map(ident)).toEqual(want.map(ident));
    const scores = r.body.items!.map((i) => i.score as number);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  for (const limit of [1, 7, 20]) {
    it(`paginates q= with limit ${limit}: no duplicates, no gaps, no empty last page`, async () => {
      const { pages } = await allPages(`/search?q=basketbal&limit=${limit}`);
      const flat = pages.flat();
      const want = expectedOrder(SEGS.filter((s) => s.label.endsWith('basketball')));
      expect(flat.map(ident)).toEqual(want.map(ident));
      expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
      expect(pages.at(-1)!.length).toBeGreaterThan(0);
    });
  }

  it('filters by minScore (inclusive) and videoId, across pages', async () => {
    const { pages } = await allPages(`/search?q=basketbal&minScore=0.6&videoId=${IDS[1]}&limit=3`);
    const want = expectedOrder(SEGS.filter((s) => s.label.endsWith('basketball') && s.score >= 0.6 && s.videoId === IDS[1]));
    expect(want.length).toBeGreaterThan(3);
    expect(pages.flat().map(ident)).toEqual(want.map(ident));
    const exact = await get('/search?action=playing%20basketball&minScore=0.55&limit=100');
    expect(exact.body.items!.map(ident)).toEqual(expectedOrder(SEGS.filter((s) => s.label === 'playing basketball' && s.score >= 0.55)).map(ident));
    const { pages: one } = await allPages(`/search?action=shooting%20basketball&videoId=${IDS[2]}&limit=3`);
    expect(one.flat().map(ident)).toEqual(expectedOrder(SEGS.filter((s) => s.label === 'shooting basketball' && s.videoId === IDS[2])).map(ident));
    const none = await get('/search?action=playing%20basketball&minScore=1&videoId=ffffffffffffffffffff');
    expect(none.body).toMatchObject({ items: [], nextCursor: null });
  });

  it('answers a query that matches no label with an empty result', async () => {
    const r = await get('/search?q=xyzzy');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ items: [], nextCursor: null, query: { q: 'xyzzy', labels: [] } });
  });

  it('refuses a tampered cursor, a cursor of another query and a forged foreign position', async () => {
    const first = await get('/search?q=basketbal&limit=2');
    const cursor = first.body.nextCursor!;
    expect(cursor).toEqual(expect.any(String));
    const [payload, tag] = cursor.split('.') as [string, string];
    const tampered = `${payload.slice(0, -2)}${payload.endsWith('AA') ? 'BB' : 'AA'}.${tag}`;
    const cases = [
      `/search?q=basketbal&limit=2&cursor=${tampered}`,
      `/search?q=basketbal&limit=2&cursor=${cursor}x`,
      `/search?q=cricket&limit=2&cursor=${cursor}`,
      `/search?q=basketbal&minScore=0.1&cursor=${cursor}`,
      `/search?q=basketbal&videoId=${IDS[1]}&cursor=${cursor}`,
      `/videos?cursor=${cursor}`,
      // signed with the real secret, but positioned in a label this query does not read
      `/search?q=basketbal&cursor=${encodeCursor(SECRET, scopeOf({ r: 'search', action: undefined, q: 'basketbal', minScore: 0, videoId: undefined }), { 'playing cricket': '' })}`,
      // signed, but the position is a video key, not a segment position
      `/search?q=basketbal&cursor=${encodeCursor(SECRET, scopeOf({ r: 'search', action: undefined, q: 'basketbal', minScore: 0, videoId: undefined }), { 'playing basketball': `META` })}`,
    ];
    for (const url of cases) {
      const r = await get(url);
      expect(r.status, url).toBe(400);
      expect(r.body, url).toMatchObject({ status: 400, code: 'INVALID_CURSOR', message: expect.any(String) });
    }
    // the same cursor with the same query still works, even with another page size
    expect((await get(`/search?q=basketbal&limit=5&cursor=${cursor}`)).status).toBe(200);
  });

  it('rejects an action that is not a label, with suggestions', async () => {
    const r = await get('/search?action=playing%20basketbal');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ status: 400, code: 'UNKNOWN_ACTION' });
    expect(r.body.message).toContain('"playing basketball"');
  });
});

describe('GET /actions', () => {
  it('ranks vocabulary labels for free text', async () => {
    const r = await get('/actions?q=basketbal&limit=4');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ q: 'basketbal', actions: BASKETBALL.map((label) => ({ label, tier: 'prefix', score: expect.any(Number) })) });
    expect(((await get('/actions?q=ski')).body.actions as { label: string }[])[0]!.label).toBe('ski jumping');
  });
});

describe('GET /videos', () => {
  it('lists videos newest first without internals, paginated', async () => {
    const { pages } = await allPages('/videos?limit=2');
    const flat = pages.flat();
    expect(flat.map((v) => v.key)).toEqual([PENDING_KEY, FAILED_KEY, KEYS[2], KEYS[1], KEYS[0]]);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    for (const v of flat) for (const k of ['PK', 'SK', 'listPk', 'listSk', 'sweepPk', 'sweepSk', 'bucket', 'etag', 'doneClips', 'rank', 'position']) expect(v).not.toHaveProperty(k);
  });

  it('shows one video', async () => {
    const r = await get(`/videos/${IDS[0]}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ videoId: IDS[0], key: KEYS[0], status: 'indexed', clipsTotal: 2, clipsDone: 2, duration: 60, model: 'slowfast_r50', trained: false });
    expect(r.body).not.toHaveProperty('PK');
    const failed = await get(`/videos/${videoIdFor('vidx-videos', FAILED_KEY)}`);
    expect(failed.body).toMatchObject({ status: 'failed', reason: 'notes.txt has no video stream', errorCode: 'NOT_A_VIDEO', clipsDone: 0 });
  });

  it('gives a video timeline ordered by start', async () => {
    const r = await get(`/videos/${IDS[2]}/timeline`);
    expect(r.status).toBe(200);
    const segs = r.body.segments as { label: string; start: number }[];
    const want = SEGS.filter((s) => s.videoId === IDS[2]).sort((a, b) => a.start - b.start || (a.label < b.label ? -1 : 1));
    expect(segs.map((s) => `${s.start}|${s.label}`)).toEqual(want.map((s) => `${s.start}|${s.label}`));
    expect(r.body).toMatchObject({ complete: true, truncated: false, video: { videoId: IDS[2], status: 'indexed' } });
    expect(r.body).not.toHaveProperty('message');
  });

  it('pages a timeline: limit and cursor give every segment once, in order; a cursor of another video is refused', async () => {
    const whole = (await get(`/videos/${IDS[2]}/timeline`)).body.segments as unknown[];
    expect(whole.length).toBeGreaterThan(3);
    const seen: unknown[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 100; guard++) {
      const r = await get(`/videos/${IDS[2]}/timeline?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      const page = r.body as { segments: unknown[]; truncated: boolean; nextCursor: string | null };
      seen.push(...page.segments);
      expect(page.truncated).toBe(page.nextCursor !== null);
      if (!page.nextCursor) break;
      expect(page.segments).toHaveLength(2);
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(whole);
    const first = (await get(`/videos/${IDS[2]}/timeline?limit=1`)).body as { nextCursor: string };
    const foreign = await get(`/videos/${IDS[1]}/timeline?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`);
    expect(foreign.status).toBe(400);
    expect(foreign.body).toMatchObject({ code: 'INVALID_CURSOR' });
  });

  it('says when a video is not indexed yet', async () => {
    const r = await get(`/videos/${PENDING_ID}/timeline`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ complete: false, segments: [], video: { status: 'processing', clipsDone: 1 }, message: expect.stringContaining('not indexed yet') });
  });
});

describe('errors are 4xx JSON { status, code, message }', () => {
  const unknownId = 'ffffffffffffffffffff';
  it.each([
    ['GET', '/nope', 404, 'ROUTE_NOT_FOUND'],
    ['GET', '/', 404, 'ROUTE_NOT_FOUND'],
    ['GET', '/videos/a/b/c', 404, 'ROUTE_NOT_FOUND'],
    ['POST', '/search?q=x', 405, 'METHOD_NOT_ALLOWED'],
    ['DELETE', `/videos/${IDS[0]}`, 405, 'METHOD_NOT_ALLOWED'],
    ['GET', '/search', 400, 'INVALID_PARAMETER'],
    ['GET', '/search?q=a&action=b', 400, 'INVALID_PARAMETER'],
    ['GET', '/search?q=x&minScore=2', 400, 'INVALID_PARAMETER'],
    ['GET', '/search?q=x&minScore=abc', 400, 'INVALID_PARAMETER'],
    ['GET', '/search?q=x&limit=0', 400, 'INVALID_PARAMETER'],
    ['GET', '/search?q=x&limit=101', 400, 'INVALID_PARAMETER'],
    ['GET', '/search?q=x&videoId=VIDEO%23x', 400, 'INVALID_PARAMETER'],
    ['GET', '/search?q=x&limit=1&limit=2', 400, 'INVALID_PARAMETER'],
    ['GET', `/search?q=${'a'.repeat(101)}`, 400, 'INVALID_PARAMETER'],
    ['GET', '/search?q=x&minscore=0.5', 400, 'UNKNOWN_PARAMETER'],
    ['GET', '/search?q=x&cursor=garbage', 400, 'INVALID_CURSOR'],
    ['GET', '/actions', 400, 'INVALID_PARAMETER'],
    ['GET', '/actions?q=', 400, 'INVALID_PARAMETER'],
    ['GET', '/actions?q=ski&limit=51', 400, 'INVALID_PARAMETER'],
    ['GET', '/videos?limit=-1', 400, 'INVALID_PARAMETER'],
    ['GET', '/videos?cursor=abc.def', 400, 'INVALID_CURSOR'],
    ['GET', '/videos/NOT-AN-ID', 400, 'INVALID_PARAMETER'],
    ['GET', '/videos/..%2F..%2Fetc', 400, 'INVALID_PARAMETER'],
    ['GET', `/videos/${IDS[0]}?x=1`, 400, 'UNKNOWN_PARAMETER'],
    ['GET', `/videos/${unknownId}`, 404, 'VIDEO_NOT_FOUND'],
    ['GET', `/videos/${unknownId}/timeline`, 404, 'VIDEO_NOT_FOUND'],
  ])('%s %s -> %i %s', async (method, url, status, code) => {
    const r = await call(method, url);
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.body).toEqual({ status, code, message: expect.any(String), ...(r.body.hint ? { hint: expect.any(String) } : {}) });
    if (status === 405) expect(r.headers.allow).toBe('GET');
  });

  it('answers a malformed event with 400, not 500', async () => {
    for (const event of [null, {}, { rawPath: '/search' }, 'GET /search']) {
      const r = await handler(event);
      expect(r.statusCode).toBe(400);
      expect(JSON.parse(r.body!)).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
    }
  });

  it('serves routes under a named stage prefix', async () => {
    const r = await call('GET', '/prod/actions?q=ski', 'prod');
    expect(r.status).toBe(200);
  });

  it('hides the detail of an unexpected failure: 500 INTERNAL', async () => {
    const failing = createQueryHandler({
      index: { getVideo: () => Promise.reject(new Error('secret detail')), listVideos: () => Promise.reject(new Error('x')), timelinePage: () => Promise.reject(new Error('x')), timelineOf: () => Promise.reject(new Error('x')), clipsOf: () => Promise.reject(new Error('x')), searchLabel: () => Promise.reject(new Error('x')) },
      vocabulary: kinetics400(),
      cursorSecret: SECRET,
      logger: new Logger({ serviceName: 'vidx-query-test', logLevel: 'SILENT' }),
    });
    const r = await failing(apigwEvent('GET', `/videos/${IDS[0]}`));
    expect(r.statusCode).toBe(500);
    expect(JSON.parse(r.body!)).toEqual({ status: 500, code: 'INTERNAL', message: 'internal error' });
    // bad input is still answered before anything is read
    expect((await failing(apigwEvent('GET', '/search?q=x&limit=0'))).statusCode).toBe(400);
  });

  it('answers 503 JSON, not a crash, when the index is unreachable', async () => {
    const broken = createQueryHandler({
      index: new DynamoIndex(table.doc, 'no-such-table'),
      vocabulary: kinetics400(),
      cursorSecret: SECRET,
      logger: new Logger({ serviceName: 'vidx-query-test', logLevel: 'SILENT' }),
    });
    const r = await broken(apigwEvent('GET', '/videos'));
    expect(r.statusCode).toBe(503);
    expect(JSON.parse(r.body!)).toMatchObject({ status: 503, code: 'INDEX_UNAVAILABLE', message: expect.stringContaining('no-such-table') });
  });
});
