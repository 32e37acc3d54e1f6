/**
 * Moments by meaning through `vidx local`'s stack with a synthesized i3d_r50 (untrained weights:
 * its pooled features are still deterministic functions of the pixels). Real cricket footage and
 * variants of it made with ffmpeg, against ffmpeg's generated test patterns:
 * - the worker keeps each window's pooled features in the embedded vector store (<data>/vectors);
 * - GET /similar returns the moment itself first and finds the same footage in another video;
 * - an action taught from whole videos ranks a held-out video of the same kind above a held-out pattern;
 * - a replaced video's vectors are those of its new revision only; a deleted one's are gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { LocalVectorIndex } from '../../adapters/local-vectors.ts';
import { scoreVideo, teachAction } from '../../core/teach/teach.ts';
import type { SimilarResponse } from '../../core/query/similar.ts';
import { waitFor } from '../helpers/emulators.ts';
import { runVidx } from '../helpers/cli.ts';
import { CRICKET_GIF } from '../helpers/media.ts';

let dir: string;
let stack: LocalStack;
let s3: S3Client;
let config: LocalConfig;

async function api<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(`${stack.apiUrl}${path}`, init);
  return { status: r.status, body: (await r.json()) as T };
}

const ffmpeg = (args: string[]) => execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
const H264 = ['-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast'];

/** The cricket footage through an ffmpeg filter chain (scaled to even sizes). */
function cricket(name: string, filter = 'null'): string {
  const out = join(dir, name);
  ffmpeg(['-i', CRICKET_GIF, '-vf', `${filter},scale=trunc(iw/2)*2:trunc(ih/2)*2`, ...H264, out]);
  return out;
}

/** A generated test pattern (an ffmpeg lavfi source), 2.5 s at 25 fps. */
function pattern(name: string, source: string): string {
  const out = join(dir, name);
  ffmpeg(['-f', 'lavfi', '-i', `${source}=size=224x224:rate=25`, '-t', '2.5', ...H264, out]);
  return out;
}

/** Uploads the way `vidx upload` does and waits until each upload's revision is indexed; returns file name -> video id. */
async function upload(files: readonly { file: string; key?: string }[]): Promise<Map<string, string>> {
  const uploaded = [];
  for (const f of files) uploaded.push(await putVideoFile(s3, config.bucket, config.prefix, f.file, f.key));
  const r = await api<{ results: { outcome: string }[] }>('/_local/s3-event', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s3CreatedEvent(uploaded)) });
  expect(r.body.results.every((x) => x.outcome === 'queued')).toBe(true);
  for (const u of uploaded) {
    await waitFor(`${u.videoId} indexed`, async () => {
      const v = await stack.store.getVideo(u.videoId);
      return v?.status === 'indexed' && v.etag === u.etag;
    }, 300_000, 500);
  }
  return new Map(uploaded.map((u) => [basenameOf(u.key), u.videoId]));
}

const basenameOf = (key: string) => key.slice(key.lastIndexOf('/') + 1);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-moments-'));
  const manifestPath = (await synthesize('i3d_r50', join(dir, 'model'))).manifestPath;
  const scorer = await loadModelScorer(manifestPath, { device: 'cpu', threads: 2, batch: 4 });
  stack = await startLocalStack({ port: 0, dataDir: join(dir, 'data'), manifestPath, scorer, logLevel: 'SILENT', worker: { waitTimeSeconds: 1 } });
  config = (await api<LocalConfig>('/_local/config')).body;
  s3 = new S3Client({ region: config.region, endpoint: config.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
}, 180_000);

afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('moments by meaning on the local stack', () => {
  let ids: Map<string, string>;
  const store = () => new LocalVectorIndex(join(dir, 'data', 'vectors'));
  const revisionOf = async (id: string) => (await stack.store.getVideo(id))?.etag;

  it('indexing keeps every window\'s pooled action features in the vector store', async () => {
    ids = await upload([
      { file: cricket('cricket-a.mp4') },
      { file: cricket('cricket-b.mp4') },
      { file: cricket('cricket-mirrored.mp4', 'hflip') },
      { file: cricket('cricket-held-out.mp4', 'crop=200:200:12:12,eq=brightness=0.05') },
      { file: pattern('testsrc.mp4', 'testsrc') },
      { file: pattern('mandelbrot.mp4', 'mandelbrot') },
      { file: pattern('smptebars-held-out.mp4', 'smptebars') },
    ]);
    const vectors = store();
    for (const id of ids.values()) {
      const revision = await revisionOf(id);
      const kept = await vectors.vectorsOf('window.action', id, revision);
      expect(kept.length, id).toBeGreaterThan(0);
      // i3d_r50 pools 2048 features before its head.
      expect(kept.every((v) => v.vector.length === 2048 && v.moment.revision === revision)).toBe(true);
    }
  }, 900_000);

  it('GET /similar returns the moment itself first and finds the same footage in another video', async () => {
    const a = ids.get('cricket-a.mp4')!;
    const b = ids.get('cricket-b.mp4')!;
    const r = await api<SimilarResponse>(`/similar?videoId=${a}&t=0.5&limit=5`);
    expect(r.status).toBe(200);
    expect(r.body.space).toBe('window.action');
    const first = r.body.hits[0]!;
    expect(first.videoId).toBe(a);
    expect(first.start).toBeLessThanOrEqual(0.5);
    expect(first.end).toBeGreaterThan(0.5);
    expect(first.similarity).toBeGreaterThan(0.9999);
    // The same bytes uploaded under another name: the same moment there, just as similar.
    const across = r.body.hits.find((h) => h.videoId === b && h.start === first.start);
    expect(across?.similarity).toBeGreaterThan(0.9999);
    const missing = await api<{ code: string }>(`/similar?videoId=${'0'.repeat(20)}&t=1`);
    expect(missing.status).toBe(404);
  });

  it('`vidx similar <videoId>@<t>` prints the same answer as a table', async () => {
    const a = ids.get('cricket-a.mp4')!;
    const r = await runVidx(['similar', `${a}@0.5`, '--api', stack.apiUrl, '--limit', '3']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toContain('window.action');
    expect(lines[1]).toMatch(/^VIDEO\s+START–END\s+PERSON\s+SIMILARITY$/);
    expect(lines[2]).toMatch(new RegExp(`^${a}\\s.*1\\.0000$`));
    expect(lines).toHaveLength(5);
  }, 60_000);

  it('an action taught from whole videos ranks a held-out cricket video above a held-out pattern', async () => {
    const vectors = store();
    const taught = await teachAction(vectors, revisionOf, {
      name: 'cricket shot',
      positives: [{ videoId: ids.get('cricket-a.mp4')! }, { videoId: ids.get('cricket-mirrored.mp4')! }],
      negatives: [{ videoId: ids.get('testsrc.mp4')! }, { videoId: ids.get('mandelbrot.mp4')! }],
    });
    expect(taught.space).toBe('window.action');
    expect(taught.validation?.heldOut).toBeGreaterThan(0);
    const best = async (name: string) => Math.max(...(await scoreVideo(vectors, revisionOf, taught, ids.get(name)!)).map((m) => m.score));
    const positive = await best('cricket-held-out.mp4');
    const negative = await best('smptebars-held-out.mp4');
    expect(positive).toBeGreaterThan(negative);
  });

  it('a replaced video keeps only its new revision\'s vectors, and /similar no longer finds the old footage', async () => {
    const a = ids.get('cricket-a.mp4')!;
    const b = ids.get('cricket-b.mp4')!;
    const old = await revisionOf(b);
    // New bytes under cricket-b's key: a new revision of the same video.
    await upload([{ file: pattern('replacement.mp4', 'rgbtestsrc'), key: `${config.prefix}cricket-b.mp4` }]);
    expect(await revisionOf(b)).not.toBe(old);
    const now = await revisionOf(b);
    const kept = await store().vectorsOf('window.action', b);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.every((v) => v.moment.revision === now)).toBe(true);
    const r = await api<SimilarResponse>(`/similar?videoId=${a}&t=0.5&limit=20`);
    expect(r.body.hits.some((h) => h.videoId === b && h.similarity > 0.9999)).toBe(false);
  }, 600_000);

  it('a deleted video\'s vectors go with it, and /similar no longer finds it', async () => {
    const a = ids.get('cricket-a.mp4')!;
    const mirrored = ids.get('cricket-mirrored.mp4')!;
    expect((await store().vectorsOf('window.action', mirrored)).length).toBeGreaterThan(0);
    const r = await fetch(`${stack.apiUrl}/_local/videos/${mirrored}`, { method: 'DELETE' });
    expect(r.status).toBe(200);
    expect(await store().vectorsOf('window.action', mirrored)).toEqual([]);
    const similar = await api<SimilarResponse>(`/similar?videoId=${a}&t=0.5&limit=100`);
    expect(similar.body.hits.some((h) => h.videoId === mirrored)).toBe(false);
  });
});
