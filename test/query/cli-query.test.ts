/** `vidx query` over real HTTP: the query handler over dynalite served as the local stack serves it, the CLI as a child process. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVidx } from '../helpers/cli.ts';
import { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { videoIdFor } from '../../core/records.ts';
import { createQueryHandler } from '../../lambdas/query/app.ts';
import { startTable, type TestTable } from './helpers/dynamo.ts';
import { serveHttpApi, type HttpApiHandler } from '../../cli/local/http-adapter.ts';

const KEY = 'videos/yard.mp4';
const ID = videoIdFor('vidx-videos', KEY);
const owner = { videoId: ID, key: KEY, etag: '"abc"' };
const box = (t: number) => ({ t, box: [0.1, 0.1, 0.3, 0.9] as [number, number, number, number] });
const seg = (person: number, label: string, start: number, end: number) => ({ kind: 'person' as const, person, label, start, end, score: 0.9, mean: 0.8, windows: 2, boxes: [box(start + 0.5)] });

let table: TestTable;
let api: { url: string; close(): Promise<void> };
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-cli-query-'));
  table = await startTable();
  // Seeded through the index port, as assembly writes a timeline.
  const index = new DynamoIndex(table.doc, table.tableName);
  const timeline = [seg(1, 'run', 0, 2), seg(1, 'fall down', 4, 5), seg(2, 'run', 10, 12)];
  await index.beginRevision({ ...owner, bucket: 'vidx-videos', status: 'queued', model: 'slowfast_r50', trained: false, clipsTotal: 1 });
  await index.writeTimeline(owner, timeline);
  await index.commitTimeline(ID, owner.etag, timeline.length);
  const handler = createQueryHandler({
    index,
    vocabulary: [],
    cursorSecret: Buffer.from('cli-query-test'),
    logger: new Logger({ serviceName: 'vidx-query-test', logLevel: 'SILENT' }),
  });
  api = await serveHttpApi(0, handler as HttpApiHandler);
});

afterAll(async () => {
  await api?.close();
  await table?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('vidx query', () => {
  it('prints a table of hits for a question given as an argument', async () => {
    const r = await runVidx(['query', '{"find":"sequence","steps":["run","fall down"],"within":5,"samePerson":true}', '--api', api.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VIDEO\s+START–END\s+WHO\s+EVIDENCE$/);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^videos\/yard\.mp4\s+0\.0–5\.0 s\s+person 1\s+run → fall down$/)]);
  });

  it('reads the question from --file, pages with --cursor, and prints JSON with --json', async () => {
    const file = join(dir, 'q.json');
    writeFileSync(file, JSON.stringify({ find: 'person', video: ID, person: 1, limit: 1 }));
    const first = await runVidx(['query', '--file', file, '--api', api.url, '--json']);
    expect(first.code).toBe(0);
    const page = JSON.parse(first.stdout) as { items: { evidence: { label: string }[] }[]; nextCursor: string };
    expect(page.items.map((h) => h.evidence[0]!.label)).toEqual(['run']);
    const second = await runVidx(['query', '--file', file, '--api', api.url, '--json', '--cursor', page.nextCursor]);
    expect((JSON.parse(second.stdout) as typeof page).items.map((h) => h.evidence[0]!.label)).toEqual(['fall down']);
  });

  it("shows the API's code and the field at fault for an invalid question", async () => {
    const r = await runVidx(['query', '{"find":"count","action":"run","atLeast":0}', '--api', api.url]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('INVALID_PARAMETER');
    expect(r.stderr).toContain('atLeast');
  });
});
