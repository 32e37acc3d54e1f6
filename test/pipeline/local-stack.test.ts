/**
 * End to end through `vidx local`'s stack with the real model (a synthesized i3d_r50 on CPU):
 * real footage (cricket_shot.gif converted to mp4 here) and an ffmpeg-made video go in the way
 * `vidx upload` sends them (put to the emulated S3, then the S3 event to POST /_local/s3-event);
 * the query API (the query Lambda behind the HTTP adapter) returns their timelines and finds
 * their segments by label. The index persists across a restart of the stack.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { synthesize } from '../../models/convert.ts';
import { loadModelScorer } from '../../gpu-worker/load-model.ts';
import { startLocalStack, type LocalConfig, type LocalStack } from '../../cli/local/stack.ts';
import { putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import { DEFAULT_TOP_K } from '../../core/timeline/defaults.ts';
import { waitFor } from '../helpers/emulators.ts';
import { makeVideo } from './fixtures.ts';
import { CRICKET_GIF } from '../helpers/media.ts';

let dir: string;
let manifestPath: string;
let stack: LocalStack | undefined;

async function start(fresh = false): Promise<LocalStack> {
  const scorer = await loadModelScorer(manifestPath, { device: 'cpu', threads: 2, batch: 4 });
  // A restart is a new process: new module instances, so the query Lambda cold-starts again.
  if (fresh) vi.resetModules();
  const boot = fresh ? (await import('../../cli/local/stack.ts')).startLocalStack : startLocalStack;
  return boot({
    port: 0,
    dataDir: join(dir, 'data'),
    manifestPath,
    scorer,
    logLevel: 'SILENT',
    worker: { waitTimeSeconds: 1 },
  });
}

async function api<T = Record<string, unknown>>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(`${stack!.apiUrl}${path}`, init);
  return { status: r.status, body: (await r.json()) as T };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-local-'));
  manifestPath = (await synthesize('i3d_r50', join(dir, 'model'))).manifestPath;
  stack = await start();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('vidx local, end to end with the synthesized model', () => {
  let ids: string[] = [];

  it('uploads real footage and an ffmpeg video the way `vidx upload` does; both get indexed', async () => {
    const cricket = join(dir, 'cricket shot.mp4');
    execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-i', CRICKET_GIF, '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', cricket]);
    const synthetic = makeVideo(dir, 'pattern.mp4', 4.5, { size: '160x120', rate: 24 });

    const config = (await api<LocalConfig>('/_local/config')).body;
    const s3 = new S3Client({ region: config.region, endpoint: config.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const uploaded = [await putVideoFile(s3, config.bucket, config.prefix, cricket), await putVideoFile(s3, config.bucket, config.prefix, synthetic)];
    s3.destroy();
    const r = await api<{ results: { outcome: string; videoId: string }[] }>('/_local/s3-event', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(s3CreatedEvent(uploaded)),
    });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x) => x.outcome)).toEqual(['queued', 'queued']);
    ids = uploaded.map((u) => u.videoId);

    for (const id of ids) {
      await waitFor(`${id} indexed`, async () => (await api<{ status: string }>(`/videos/${id}`)).body.status === 'indexed', 150_000, 500);
    }
  }, 200_000);

  it('the API returns each timeline and finds its segments by label', async () => {
    for (const id of ids) {
      const t = await api<{ video: { status: string; trained: boolean; segments: number }; segments: { label: string; start: number; end: number; score: number }[] }>(`/videos/${id}/timeline`);
      expect(t.status).toBe(200);
      expect(t.body.video.trained).toBe(false);
      // Untrained: threshold 0, so every window's top-k labels are segments (at least k).
      expect(t.body.segments.length).toBeGreaterThanOrEqual(DEFAULT_TOP_K);
      expect(t.body.segments.length).toBe(t.body.video.segments);
      const seg = t.body.segments[0]!;
      const s = await api<{ items: { videoId: string; label: string; start: number }[] }>(`/search?action=${encodeURIComponent(seg.label)}&videoId=${id}`);
      expect(s.status).toBe(200);
      expect(s.body.items.some((h) => h.videoId === id && h.label === seg.label && h.start === seg.start)).toBe(true);
    }
    const list = await api<{ items: { videoId: string }[] }>('/videos');
    expect(list.body.items.map((v) => v.videoId).sort()).toEqual([...ids].sort());
  });

  it('bad input through the HTTP adapter gives 4xx JSON, never 500', async () => {
    for (const path of ['/search?limit=0&q=x', '/videos/not-an-id', '/nope', '/search?minScore=2&q=x']) {
      const r = await api<{ status: number; message: string }>(path);
      expect(r.status, path).toBeGreaterThanOrEqual(400);
      expect(r.status, path).toBeLessThan(500);
      expect(r.body.message).toBeTruthy();
    }
    const bad = await api('/_local/s3-event', { method: 'POST', body: '{"Records": [{"nope": 1}]}' });
    expect(bad.status).toBe(400);
  });

  it('the index survives a restart of the stack (dynalite on disk)', async () => {
    await stack!.stop();
    stack = await start(true);
    const list = await api<{ items: { videoId: string; status: string }[] }>('/videos');
    expect(list.body.items.map((v) => v.videoId).sort()).toEqual([...ids].sort());
    expect(list.body.items.every((v) => v.status === 'indexed')).toBe(true);
  }, 60_000);
});
