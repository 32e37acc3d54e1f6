/**
 * Exports and query-time segmentation, on the emulators with a timeline the pipeline made
 * (segmenter + clip worker over fauxqs and dynalite), read back over real HTTP through the query
 * Lambda. Each export is parsed by a parser that is not vidx's (csv-parse, webvtt-parser); the
 * EDL's structure is checked line by line against CMX3600.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import webvtt from 'webvtt-parser';
import { Logger } from '@aws-lambda-powertools/logger';
import { startTestStack, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, TEST_LABELS, makeVideo, quiet, testSegmenterDeps } from '../pipeline/fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { uploadAndNotify } from '../../cli/local/upload.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { createQueryHandler } from '../../lambdas/query/app.ts';
import { serveHttpApi, type HttpApiHandler } from '../../cli/local/http-adapter.ts';
import { ClipWindowsSchema } from '../../core/records.ts';
import type { WindowScore } from '../../core/result.ts';
import { toCsv, toEdl, toWebVtt } from '../../core/export/formats.ts';
import { framesAt, timecode, timecodeBase, vttTime } from '../../core/export/timecode.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const execFileP = promisify(execFile);

interface Seg {
  label: string;
  start: number;
  end: number;
  score: number;
  mean: number;
  windows: number;
}
interface Timeline {
  video: { videoId: string; key: string; fps: number; status: string };
  segments: Seg[];
  segmentation: { threshold: number; gap: number; minDuration: number; source: string };
}

let stack: TestStack;
let dir: string;
let worker: ClipWorker;
let scorer: DeterministicScorer;
let http: { url: string; close(): Promise<void> };
let videoId: string;
let windows: WindowScore[];

async function get(path: string): Promise<{ status: number; type: string; text: string; json: () => any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON
  const r = await fetch(`${http.url}${path}`);
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-export-'));
  stack = await startTestStack();
  worker = new ClipWorker({
    sqs: stack.clients.sqs, queueUrl: stack.resources.queueUrl, s3: stack.clients.s3, store: stack.store,
    scorer: (scorer = new DeterministicScorer(3)), timeline: { threshold: 0, gap: 1 }, log: quiet,
    waitTimeSeconds: 1, visibilityTimeoutSeconds: 5, heartbeatSeconds: 1,
  });
  worker.start();
  const file = makeVideo(dir, 'match, "final".mp4', 12);
  const [up] = await uploadAndNotify(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, [file], makeSegmenterHandler(testSegmenterDeps(stack)));
  videoId = up!.videoId;
  await waitFor('indexed', async () => (await stack.store.getVideo(videoId))?.status === 'indexed', 60_000);
  const v = (await stack.store.getVideo(videoId))!;
  windows = (await stack.store.clipsOf(videoId, v.etag)).flatMap((c) => ClipWindowsSchema.parse(JSON.parse(c.windows)));
  const handler = createQueryHandler({
    index: new DynamoIndex(stack.clients.doc, stack.resources.tableName),
    vocabulary: TEST_LABELS,
    cursorSecret: Buffer.from('export-test'),
    logger: new Logger({ serviceName: 'vidx-query-test', logLevel: 'SILENT' }),
  });
  http = await serveHttpApi(0, handler as HttpApiHandler);
}, 120_000);

afterAll(async () => {
  await http?.close();
  await worker?.stop();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** p of a label in a window's top-k; absent = below any positive threshold. */
function pOf(label: string, start: number): number {
  return windows.find((w) => w.start === start)?.top.find((t) => t.label === label)?.p ?? 0;
}

describe('query-time segmentation', () => {
  it('the defaults, given explicitly, recompute exactly the stored timeline', async () => {
    const stored = (await get(`/videos/${videoId}/timeline`)).json() as Timeline;
    const recomputed = (await get(`/videos/${videoId}/timeline?threshold=0&gap=1&minDuration=0`)).json() as Timeline;
    expect(stored.segmentation).toEqual({ threshold: 0, gap: 1, minDuration: 0, source: 'stored' });
    expect(recomputed.segmentation.source).toBe('recomputed');
    expect(stored.segments.length).toBeGreaterThan(3);
    expect(recomputed.segments).toEqual(stored.segments);
  });

  it('a higher threshold keeps only runs of windows that reach it, without the model', async () => {
    const calls = scorer.calls;
    const t = (await get(`/videos/${videoId}/timeline?threshold=0.3&gap=0`)).json() as Timeline;
    const all = (await get(`/videos/${videoId}/timeline`)).json() as Timeline;
    expect(t.segments.length).toBeGreaterThan(0);
    expect(t.segments.length).toBeLessThan(all.segments.length);
    for (const s of t.segments) {
      expect(s.score).toBeGreaterThanOrEqual(0.3);
      // gap 0: every window of the run passes, and the windows either side do not.
      for (let at = s.start; at < s.end - 1e-9; at += 1) expect(pOf(s.label, at), `${s.label}@${at}`).toBeGreaterThanOrEqual(0.3);
      expect(pOf(s.label, s.start - 1)).toBeLessThan(0.3);
      expect(pOf(s.label, s.end)).toBeLessThan(0.3);
    }
    expect(scorer.calls).toBe(calls); // the model was not asked again
  });

  it('minDuration drops the shorter segments and keeps the rest unchanged', async () => {
    const base = (await get(`/videos/${videoId}/timeline?threshold=0`)).json() as Timeline;
    const long = (await get(`/videos/${videoId}/timeline?threshold=0&minDuration=2`)).json() as Timeline;
    expect(long.segments).toEqual(base.segments.filter((s) => s.end - s.start >= 2));
    expect(long.segments.length).toBeLessThan(base.segments.length);
  });

  it('search within one video uses the same segmentation, pages with cursors bound to it', async () => {
    const label = TEST_LABELS.find((l) => windows.some((w) => w.top[0]!.label === l))!;
    const expected = ((await get(`/videos/${videoId}/timeline?threshold=0.3`)).json() as Timeline).segments.filter((s) => s.label === label);
    const seen: Seg[] = [];
    let cursor: string | null = null;
    do {
      const r = await get(`/search?action=${encodeURIComponent(label)}&videoId=${videoId}&threshold=0.3&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status, r.text).toBe(200);
      const body = r.json() as { items: Seg[]; nextCursor: string | null; query: { segmentation: unknown } };
      expect(body.query.segmentation).toEqual({ threshold: 0.3, gap: 1, minDuration: 0 });
      seen.push(...body.items);
      if (cursor && body.nextCursor) {
        const other = await get(`/search?action=${encodeURIComponent(label)}&videoId=${videoId}&threshold=0.2&limit=1&cursor=${encodeURIComponent(body.nextCursor)}`);
        expect(other.json().code).toBe('INVALID_CURSOR');
      }
      cursor = body.nextCursor;
    } while (cursor);
    const key = (s: Seg) => `${s.start}|${s.end}|${s.score}`;
    expect(seen.map(key).sort()).toEqual(expected.map(key).sort());
    expect(seen.map((s) => s.score)).toEqual([...seen.map((s) => s.score)].sort((a, b) => b - a));
  });

  it('rejects bad segmentation parameters with typed 400s', async () => {
    const cases: [string, string][] = [
      [`/videos/${videoId}/timeline?threshold=2`, 'INVALID_PARAMETER'],
      [`/videos/${videoId}/timeline?threshold=-0.1`, 'INVALID_PARAMETER'],
      [`/videos/${videoId}/timeline?gap=1.5`, 'INVALID_PARAMETER'],
      [`/videos/${videoId}/timeline?minDuration=abc`, 'INVALID_PARAMETER'],
      [`/videos/${videoId}/timeline?format=pdf`, 'INVALID_PARAMETER'],
      [`/videos/${videoId}/timeline?treshold=0.3`, 'UNKNOWN_PARAMETER'],
      ['/search?q=action&threshold=0.3', 'INVALID_PARAMETER'],
    ];
    for (const [path, code] of cases) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(r.json().code, path).toBe(code);
    }
  });
});

describe('exports', () => {
  it('CSV: one row per segment, read back by csv-parse', async () => {
    const t = (await get(`/videos/${videoId}/timeline`)).json() as Timeline;
    const r = await get(`/videos/${videoId}/timeline?format=csv`);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/csv/);
    const rows = parseCsv(r.text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(t.segments.length);
    rows.forEach((row, i) => {
      const s = t.segments[i]!;
      expect(row.video_id).toBe(videoId);
      expect(row.key).toBe(t.video.key); // a key with a comma and quotes survives quoting
      expect(row.label).toBe(s.label);
      expect(Number(row.start)).toBeCloseTo(s.start, 3);
      expect(Number(row.end)).toBeCloseTo(s.end, 3);
      expect(Number(row.score)).toBeCloseTo(s.score, 6);
      expect(Number(row.mean)).toBeCloseTo(s.mean, 6);
      expect(Number(row.windows)).toBe(s.windows);
    });
  });

  it('WebVTT: one cue per segment, read back by webvtt-parser without errors', async () => {
    const t = (await get(`/videos/${videoId}/timeline?threshold=0.3`)).json() as Timeline;
    const r = await get(`/videos/${videoId}/timeline?format=vtt&threshold=0.3`);
    expect(r.type).toMatch(/^text\/vtt/);
    const tree = new webvtt.WebVTTParser().parse(r.text, 'metadata');
    expect(tree.errors).toEqual([]);
    expect(tree.cues).toHaveLength(t.segments.length);
    tree.cues.forEach((c, i) => {
      const s = t.segments[i]!;
      expect(c.id).toBe(String(i + 1));
      expect(c.startTime).toBeCloseTo(s.start, 3);
      expect(c.endTime).toBeCloseTo(s.end, 3);
      expect(c.text).toBe(`${s.label} (${s.score.toFixed(2)})`);
    });
  });

  it('EDL: CMX3600 events with a marker per segment, strictly structured', async () => {
    const t = (await get(`/videos/${videoId}/timeline?threshold=0.3`)).json() as Timeline;
    const r = await get(`/videos/${videoId}/timeline?format=edl&threshold=0.3`);
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^[\x20-\x7e\r\n]*$/); // ASCII only
    const lines = r.text.split('\r\n');
    expect(lines[0]).toMatch(/^TITLE: .{1,60}$/);
    expect(lines[1]).toBe('FCM: NON-DROP FRAME');
    expect(lines[2]).toBe('');
    const fps = Math.round(t.video.fps);
    const tc = String.raw`(\d{2}):(\d{2}):(\d{2}):(\d{2})`;
    const event = new RegExp(String.raw`^(\d{3})  AX       V     C        ${tc} ${tc} ${tc} ${tc}$`);
    const frames = (m: RegExpExecArray, at: number) => {
      const [h, mi, s, f] = [1, 2, 3, 4].map((k) => Number(m[at + k - 1]));
      expect(f!).toBeLessThan(fps);
      return ((h! * 60 + mi!) * 60 + s!) * fps + f!;
    };
    let i = 3;
    t.segments.forEach((s, n) => {
      const m = event.exec(lines[i]!);
      expect(m, lines[i]).not.toBeNull();
      expect(Number(m![1])).toBe(n + 1);
      const [srcIn, srcOut, recIn, recOut] = [2, 6, 10, 14].map((at) => frames(m!, at));
      expect(srcIn).toBe(recIn);
      expect(srcOut).toBe(recOut);
      expect(srcOut!).toBeGreaterThan(srcIn!);
      expect(srcIn! / t.video.fps).toBeCloseTo(s.start, 1);
      expect(srcOut! / t.video.fps).toBeCloseTo(s.end, 1);
      expect(lines[i + 1]).toMatch(/^\* FROM CLIP NAME: match, "final"\.mp4$/);
      expect(lines[i + 2]).toBe(`* LOC: ${m![0].slice(29, 40)} YELLOW  ${s.label}`);
      expect(lines[i + 3]).toBe(`* COMMENT: ${s.label} score ${s.score.toFixed(2)} mean ${s.mean.toFixed(2)}`);
      expect(lines[i + 4]).toBe('');
      i += 5;
    });
    expect(lines.slice(i).join('')).toBe('');
  });
});

describe('vidx export', () => {
  it('writes the API\'s export of a video, re-segmented when asked, and fails typed on a bad value', async () => {
    const run = (args: string[]) => execFileP(process.execPath, ['bin/vidx.js', 'export', ...args, '--api', http.url], { cwd: ROOT });
    const out = join(dir, 'markers.edl');
    await run([videoId, '--format', 'edl', '--threshold', '0.3', '--out', out]);
    expect(readFileSync(out, 'utf8')).toBe((await get(`/videos/${videoId}/timeline?format=edl&threshold=0.3`)).text);
    const { stdout } = await run([videoId, '--format', 'csv', '--min-duration', '2']);
    expect(stdout).toBe((await get(`/videos/${videoId}/timeline?format=csv&minDuration=2`)).text);
    const bad = await run([videoId, '--format', 'csv', '--gap', '-1']).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining('[INVALID_PARAMETER]') });
  }, 60_000);
});

describe('export formats (pure)', () => {
  const seg = (i: number): Seg => ({ label: 'action 1', start: i, end: i + 1, score: 0.5, mean: 0.5, windows: 1 });
  it('an EDL holds at most 999 events: more is EXPORT_TOO_LARGE with what to do', () => {
    expect(() => toEdl({ video: { videoId: 'x', key: 'videos/a.mp4', fps: 25 }, segments: Array.from({ length: 1000 }, (_, i) => seg(i)) })).toThrow(
      expect.objectContaining({ code: 'EXPORT_TOO_LARGE', hint: expect.stringMatching(/threshold/) }),
    );
    expect(toEdl({ video: { videoId: 'x', key: 'videos/a.mp4', fps: 25 }, segments: Array.from({ length: 999 }, (_, i) => seg(i)) })).toContain('\r\n999  AX');
  });

  it('timecodes count frames at the nominal rate (29.97 -> 30, non-drop) and cue times in ms', () => {
    expect(timecode(framesAt(3661.5, 29.97), timecodeBase(29.97))).toBe('01:00:57:25'); // 109,735 frames
    expect(timecode(framesAt(1, 25), timecodeBase(25))).toBe('00:00:01:00');
    expect(timecodeBase(undefined)).toBe(30);
    expect(vttTime(3725.0126)).toBe('01:02:05.013');
  });

  it('escapes what WebVTT and CSV reserve', () => {
    const t = { video: { videoId: 'x', key: 'videos/a --> b\n.mp4' }, segments: [{ ...seg(0), label: 'a<b>&c' }] };
    const tree = new webvtt.WebVTTParser().parse(toWebVtt(t), 'metadata');
    expect(tree.errors).toEqual([]);
    expect(tree.cues[0]!.text).toBe('a&lt;b&gt;&amp;c (0.50)');
    expect((parseCsv(toCsv(t), { columns: true }) as Record<string, string>[])[0]!.key).toBe('videos/a --> b\n.mp4');
  });
});
