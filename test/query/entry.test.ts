/**
 * The deployed entry point `handler` (cold-start wiring from the environment: table name,
 * DynamoDB endpoint, Kinetics-400 vocabulary, cursor secret), served through the local stack's
 * HTTP -> API Gateway v2 adapter as `npm start` serves it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../core/names.ts';
import { videoIdFor } from '../../core/records.ts';
import { serveHttpApi, type HttpApiHandler } from '../../cli/local/http-adapter.ts';
import { startTable, type TestTable } from './helpers/dynamo.ts';
import { segmentItem, videoItem } from './helpers/seed.ts';

const KEY = 'videos/entry test.mp4';
const ID = videoIdFor('vidx-videos', KEY);
let table: TestTable;
let api: { url: string; close(): Promise<void> };
const saved = { ...process.env };

beforeAll(async () => {
  table = await startTable('vidx-entry-test');
  await table.put([videoItem(KEY, '2026-11-23T11:00:00.000Z'), segmentItem({ videoId: ID, key: KEY, label: 'playing guitar', start: 2, end: 6, score: 0.8 }), segmentItem({ videoId: ID, key: KEY, label: 'tapping guitar', start: 9, end: 11, score: 0.3 })]);
  Object.assign(process.env, { [ENV.table]: table.tableName, [ENV.dynamoEndpoint]: table.endpoint, [ENV.region]: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' });
  delete process.env.VIDX_CURSOR_SECRET;
  const { handler } = await import('../../lambdas/query/handler.ts');
  api = await serveHttpApi(0, handler as HttpApiHandler);
});

afterAll(async () => {
  await api?.close();
  await table?.close();
  process.env = saved;
});

describe('query Lambda entry point behind the local HTTP adapter', () => {
  it('reads the table named by the environment and searches with the real vocabulary', async () => {
    const r = await fetch(`${api.url}/search?q=guitr`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await r.json()) as { items: { key: string; label: string }[]; query: { labels: { label: string }[] } };
    expect(body.query.labels.map((l) => l.label)).toContain('playing guitar');
    expect(body.items).toEqual([expect.objectContaining({ key: KEY, label: 'playing guitar', score: 0.8 }), expect.objectContaining({ label: 'tapping guitar' })]);
  });

  it('lists, shows and times a video, and answers errors as JSON', async () => {
    const list = (await (await fetch(`${api.url}/videos`)).json()) as { items: { videoId: string }[] };
    expect(list.items.map((v) => v.videoId)).toEqual([ID]);
    const tl = (await (await fetch(`${api.url}/videos/${ID}/timeline`)).json()) as { complete: boolean; segments: unknown[] };
    expect(tl).toMatchObject({ complete: true, segments: [{ label: 'playing guitar', start: 2, end: 6 }, { label: 'tapping guitar', start: 9 }] });
    const bad = await fetch(`${api.url}/search?q=x&limit=1000`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 400, code: 'INVALID_PARAMETER' });
    const post = await fetch(`${api.url}/videos`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(post.status).toBe(405);
  });

  it('issues cursors signed with the derived default secret that work across calls', async () => {
    type Page = { items: { label: string }[]; nextCursor: string | null };
    const first = (await (await fetch(`${api.url}/search?q=guitr&limit=1`)).json()) as Page;
    expect(first.items.map((i) => i.label)).toEqual(['playing guitar']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await (await fetch(`${api.url}/search?q=guitr&limit=1&cursor=${first.nextCursor}`)).json()) as Page;
    expect(second).toMatchObject({ items: [{ label: 'tapping guitar' }], nextCursor: null });
  });
});
