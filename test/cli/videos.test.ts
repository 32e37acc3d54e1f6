/**
 * `vidx videos`, video names wherever an id goes, `--version`, usage errors and `vidx doctor`:
 * the CLI as a child process against the query handler over real HTTP on a dynalite table.
 */
import { createServer } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runVidx, REPO } from '../helpers/cli.ts';
import { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { videoIdFor } from '../../core/records.ts';
import { createQueryHandler } from '../../lambdas/query/app.ts';
import { startTable, type TestTable } from '../query/helpers/dynamo.ts';
import { serveHandler } from '../query/helpers/http.ts';
import { segmentItem, videoItem } from '../query/helpers/seed.ts';
import { kinetics400 } from '../query/helpers/vocabulary.ts';

const FORBID_HEAVY = fileURLToPath(new URL('../helpers/forbid-heavy.mjs', import.meta.url));
const DONE = 'videos/court one.mp4';
const RUNNING = 'videos/game-2.mp4';
const OLD_RUNNING = 'videos/2025/game-2.mp4';
const FAILED = 'videos/broken.mov';
const id = (key: string) => videoIdFor('vidx-videos', key);

let table: TestTable;
let api: { url: string; close(): Promise<void> };

beforeAll(async () => {
  table = await startTable();
  const started = new Date(Date.now() - 60_000).toISOString();
  await table.put([
    videoItem(DONE, '2026-11-23T10:00:00.000Z', { segments: 1, clipUnits: [30, 30] }),
    // 20 of 60 windows scored in a minute (or more, on a slow run): two minutes left, or more.
    videoItem(RUNNING, '2026-11-23T10:02:00.000Z', { status: 'processing', doneClips: new Set([0]), clipUnits: [15, 15, 30], clipWindows: { '1': 5 }, workStartedAt: started, clipsTotal: 3 }),
    videoItem(OLD_RUNNING, '2026-11-23T10:01:00.000Z', { status: 'queued', doneClips: undefined }),
    videoItem(FAILED, '2026-11-23T09:00:00.000Z', { status: 'failed', reason: 'the file is not a video', doneClips: undefined }),
    segmentItem({ videoId: id(DONE), key: DONE, label: 'playing basketball', start: 12, end: 18.4, score: 0.91 }),
  ]);
  const handler = createQueryHandler({
    index: new DynamoIndex(table.doc, table.tableName),
    vocabulary: kinetics400(),
    cursorSecret: Buffer.from('cli-videos-test'),
    logger: new Logger({ serviceName: 'vidx-query-test', logLevel: 'SILENT' }),
  });
  api = await serveHandler(handler);
});

afterAll(async () => {
  await api?.close();
  await table?.close();
});

describe('vidx videos', () => {
  it('lists every video newest first with its id, status and progress, and its key', async () => {
    const r = await runVidx(['videos', '--api', api.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+KEY$/);
    expect(lines[1]).toMatch(new RegExp(`^${id(RUNNING)}  processing 20 of 60 windows \\(33%\\), about \\d+m\\d\\ds left\\s+videos/game-2\\.mp4$`));
    expect(lines[2]).toMatch(new RegExp(`^${id(OLD_RUNNING)}  queued 0 of 2 clips\\s+videos/2025/game-2\\.mp4$`));
    expect(lines[3]).toMatch(new RegExp(`^${id(DONE)}  indexed, 1 segment\\s+videos/court one\\.mp4$`));
    expect(lines[4]).toMatch(new RegExp(`^${id(FAILED)}  failed: the file is not a video\\s+videos/broken\\.mov$`));
  });

  it('prints the API views with --json, progress included', async () => {
    const r = await runVidx(['videos', '--api', api.url, '--json']);
    expect(r.code).toBe(0);
    const running = (JSON.parse(r.stdout) as { videoId: string; progress?: { windowsDone: number; windowsTotal: number; etaSeconds: number | null } }[]).find((v) => v.videoId === id(RUNNING));
    expect(running?.progress).toMatchObject({ windowsDone: 20, windowsTotal: 60 });
    expect(running?.progress?.etaSeconds).toBeGreaterThan(100);
  });
});

describe('a video named by key or file name', () => {
  it('exports by file name or by key, as by id', async () => {
    const byId = await runVidx(['export', id(DONE), '--api', api.url, '--format', 'csv']);
    expect(byId.code).toBe(0);
    expect(byId.stdout).toContain('playing basketball');
    for (const ref of ['court one.mp4', DONE, '/home/me/clips/court one.mp4']) {
      const r = await runVidx(['export', ref, '--api', api.url, '--format', 'csv']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(byId.stdout);
    }
  });

  it('refuses a name two videos share, listing both', async () => {
    const r = await runVidx(['export', 'game-2.mp4', '--api', api.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[VIDEO_AMBIGUOUS]');
    expect(r.stderr).toContain(`${id(RUNNING)} (${RUNNING})`);
    expect(r.stderr).toContain(`${id(OLD_RUNNING)} (${OLD_RUNNING})`);
    const full = await runVidx(['search', 'basketbal', '--video', RUNNING, '--api', api.url]);
    expect(full.code).toBe(0);
    expect(full.stdout).toContain('no segments found');
  });

  it('says plainly when no video has that name', async () => {
    const r = await runVidx(['search', 'basketbal', '--video', 'nowhere.mp4', '--api', api.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no video has the id, key or file name "nowhere.mp4" [VIDEO_NOT_FOUND]');
    expect(r.stderr).toContain('`vidx videos` lists');
  });
});

describe('the command line itself', () => {
  it('prints its version', async () => {
    const { version } = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { version: string };
    const r = await runVidx(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('answers a usage error with the error and where the help is, not the whole help', async () => {
    for (const [args, error, help] of [
      [['search'], "error: missing required argument 'text'", 'vidx search --help'],
      [['upload', 'a.mp4', '--bogus'], "error: unknown option '--bogus'", 'vidx upload --help'],
      [['models', 'pull'], "error: missing required argument 'arch'", 'vidx models pull --help'],
      [['frobnicate'], "error: unknown command 'frobnicate'", 'vidx --help'],
    ] as const) {
      const r = await runVidx([...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${error}\n(see \`${help}\`)\n`);
    }
  });

  it('lists every command in its help, loading none of their heavy modules', async () => {
    const r = await runVidx(['--help'], { NODE_OPTIONS: `--import=${FORBID_HEAVY}` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const c of ['local', 'upload', 'videos', 'search', 'export', 'reindex', 'analyze', 'models', 'doctor']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });
});

describe('vidx doctor', () => {
  it('checks Node, ffmpeg, the models, disk, the port and the GPU, and notes a port in use', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await runVidx(['doctor', '--port', String(port), '--json', '--cache', `${REPO}.no-such-cache`]);
      expect(r.code).toBe(0);
      const checks = JSON.parse(r.stdout) as { name: string; verdict: string; detail: string; fix?: string }[];
      expect(checks.map((c) => c.name)).toEqual(['node', 'ffmpeg', 'ffprobe', 'model slowfast_r50', 'model slowfast_r50_detection', 'model fasterrcnn_resnet50_fpn_v2', 'disk cache', 'disk data', 'port', 'gpu']);
      expect(checks.find((c) => c.name === 'node')).toMatchObject({ verdict: 'ok', detail: expect.stringContaining(process.version) });
      expect(checks.find((c) => c.name === 'ffmpeg')?.verdict).toBe('ok');
      expect(checks.find((c) => c.name === 'model slowfast_r50')).toMatchObject({ verdict: 'note', fix: expect.stringContaining('vidx models pull slowfast_r50') });
      expect(checks.find((c) => c.name === 'port')).toMatchObject({ verdict: 'note', detail: `127.0.0.1:${port} is in use (a running \`vidx local\`?)` });
      const text = await runVidx(['doctor', '--port', String(port), '--cache', `${REPO}.no-such-cache`]);
      expect(text.stdout).toMatch(/^ok {4}node/m);
      expect(text.stdout).toMatch(/^note {2}model slowfast_r50 /m);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });

  it('refuses a port that is not one', async () => {
    const r = await runVidx(['doctor', '--port', 'http']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--port must be a port number, got "http" [BAD_OPTION]');
  });
});
