/** `vidx search` over real HTTP: the handler served by a tiny node:http adapter, the CLI as a child process. */
import { createServer } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVidx } from '../helpers/cli.ts';
import { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { videoIdFor } from '../../core/records.ts';
import { createQueryHandler } from '../../lambdas/query/app.ts';
import { formatTable } from '../../cli/commands/search.ts';
import { startTable, type TestTable } from './helpers/dynamo.ts';
import { serveHandler } from './helpers/http.ts';
import { segmentItem, videoItem } from './helpers/seed.ts';
import { kinetics400 } from './helpers/vocabulary.ts';

const A = 'videos/court one.mp4';
const B = 'videos/game-2.mp4';
const ID_A = videoIdFor('vidx-videos', A);
const ID_B = videoIdFor('vidx-videos', B);

const vidx = (args: string[]) => runVidx(args);

/** A port that nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let table: TestTable;
let api: { url: string; close(): Promise<void> };

beforeAll(async () => {
  table = await startTable();
  await table.put([
    videoItem(A, '2026-11-23T10:00:00.000Z'),
    videoItem(B, '2026-11-23T10:01:00.000Z'),
    segmentItem({ videoId: ID_A, key: A, label: 'playing basketball', start: 12, end: 18.4, score: 0.91 }),
    segmentItem({ videoId: ID_B, key: B, label: 'dribbling basketball', start: 3, end: 7.5, score: 0.97 }),
    segmentItem({ videoId: ID_B, key: B, label: 'shooting basketball', start: 30, end: 32, score: 0.42 }),
    segmentItem({ videoId: ID_A, key: A, label: 'playing cricket', start: 0, end: 4, score: 0.99 }),
  ]);
  const handler = createQueryHandler({
    index: new DynamoIndex(table.doc, table.tableName),
    vocabulary: kinetics400(),
    cursorSecret: Buffer.from('cli-test'),
    logger: new Logger({ serviceName: 'vidx-query-test', logLevel: 'SILENT' }),
  });
  api = await serveHandler(handler);
});

afterAll(async () => {
  await api?.close();
  await table?.close();
});

describe('vidx search', () => {
  it('prints a table of segments, best first, for a typo', async () => {
    const r = await vidx(['search', 'basketbal', '--api', api.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('actions: dribbling basketball, dunking basketball, playing basketball, shooting basketball');
    expect(lines[1]).toMatch(/^LABEL\s+START–END\s+SCORE\s+ID\s+VIDEO$/);
    expect(lines.slice(2)).toHaveLength(3);
    expect(lines[2]).toMatch(new RegExp(`^dribbling basketball\\s+3\\.0–7\\.5 s\\s+0\\.970  ${ID_B}  videos/game-2\\.mp4$`));
    expect(lines[3]).toMatch(new RegExp(`^playing basketball\\s+12\\.0–18\\.4 s\\s+0\\.910  ${ID_A}  videos/court one\\.mp4$`));
    expect(lines[4]).toMatch(/^shooting basketball/);
    expect(r.stdout).not.toContain('cricket');
  });

  it('passes --min-score, --limit and prints the next-page hint; --json prints the API answer', async () => {
    const r = await vidx(['search', 'basketbal', '--api', `${api.url}/`, '--min-score', '0.5', '--limit', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dribbling basketball');
    expect(r.stdout).not.toContain('playing basketball  ');
    const more = /more: add --cursor (\S+)/.exec(r.stdout);
    expect(more).not.toBeNull();
    const next = await vidx(['search', 'basketbal', '--api', api.url, '--min-score', '0.5', '--limit', '1', '--cursor', more![1]!, '--json']);
    expect(next.code).toBe(0);
    const body = JSON.parse(next.stdout) as { items: { label: string; score: number }[]; nextCursor: string | null };
    expect(body.items.map((i) => i.label)).toEqual(['playing basketball']);
    expect(body.nextCursor).toBeNull();
  });

  it('takes several words and says when nothing matches', async () => {
    const r = await vidx(['search', 'playing', 'cricket', '--api', api.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^actions: playing cricket\n/);
    expect(r.stdout).toContain('videos/court one.mp4');
    const none = await vidx(['search', 'xyzzy', '--api', api.url]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no action of the model matches "xyzzy"');
  });

  it('shows the API’s 400 with its code', async () => {
    const r = await vidx(['search', 'basketbal', '--api', api.url, '--min-score', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('minScore must be from 0 to 1 [INVALID_PARAMETER]');
  });

  it('says how to start the API when it is not reachable', async () => {
    const r = await vidx(['search', 'basketbal', '--api', `http://127.0.0.1:${await deadPort()}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the vidx API at http://127.0.0.1:');
    expect(r.stderr).toContain('start it with `npm start`');
    expect(r.stderr).toContain('[API_UNREACHABLE]');
  });
});

describe('formatTable', () => {
  it('aligns columns, right-aligns the score, and names the video by id and key', () => {
    const t = formatTable([
      { videoId: ID_A, key: 'videos/a.mp4', label: 'ski jumping', start: 1, end: 2.25, score: 0.5 },
      { videoId: ID_B, key: 'videos/longer name.mp4', label: 'yoga', start: 10, end: 20, score: 1 },
    ]);
    expect(t.split('\n')).toEqual([
      'LABEL        START–END    SCORE  ID                    VIDEO',
      `ski jumping  1.0–2.3 s    0.500  ${ID_A}  videos/a.mp4`,
      `yoga         10.0–20.0 s  1.000  ${ID_B}  videos/longer name.mp4`,
    ]);
  });

  it('names the person of a person segment', () => {
    const t = formatTable([
      { videoId: ID_A, key: 'videos/a.mp4', label: 'stand', start: 1, end: 3, score: 0.9, kind: 'person', person: 2 },
      { videoId: ID_A, key: 'videos/a.mp4', label: 'yoga', start: 4, end: 6, score: 0.8, kind: 'clip' },
    ]);
    expect(t.split('\n')).toEqual([
      'LABEL  PERSON    START–END  SCORE  ID                    VIDEO',
      `stand  person 2  1.0–3.0 s  0.900  ${ID_A}  videos/a.mp4`,
      `yoga   -         4.0–6.0 s  0.800  ${ID_A}  videos/a.mp4`,
    ]);
  });
});
