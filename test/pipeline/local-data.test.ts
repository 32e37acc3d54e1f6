/**
 * `vidx local`'s data folder heals or says why. Across starts of the real stack on one --data:
 * an unreadable objects/*.json is quarantined while the rest goes on; an emptied .bin is not put
 * back as a 0-byte object (its video is failed with KEPT_COPY_DAMAGED); the copy of a failed
 * upload is pruned after the retention; a full disk (a real ENOSPC, from /dev/full) is DISK_FULL
 * and the API goes on; junk in CURRENT or a truncated table file of the index is a start that
 * fails with DATA_INDEX_DAMAGED naming the file, never a crash; and an index moved aside as the
 * hint says is rebuilt from the kept uploads.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { LocalConfig, LocalStack, LocalStackOptions } from '../../cli/local/stack.ts';
import { putVideoFile, type UploadedFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { waitFor } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo } from './fixtures.ts';

const MANIFEST = 'test/cdk/fixtures/slowfast_r50.json';

let dir: string;
let stack: LocalStack | undefined;

async function start(dataDir: string, extra: Partial<LocalStackOptions> = {}): Promise<LocalStack> {
  vi.resetModules(); // a new process: the query Lambda cold-starts against the new emulators
  const { startLocalStack } = await import('../../cli/local/stack.ts');
  const scorer = Object.assign(new DeterministicScorer(3), { architecture: 'slowfast_r50' });
  return startLocalStack({ port: 0, dataDir, manifestPath: MANIFEST, scorer, clipSeconds: 2, logLevel: 'SILENT', worker: { waitTimeSeconds: 1 }, ...extra });
}

async function upload(s: LocalStack, file: string): Promise<{ up: UploadedFile; status: number; body: { code?: string; message?: string; results?: { outcome: string }[] } }> {
  const config = (await (await fetch(`${s.apiUrl}/_local/config`)).json()) as LocalConfig;
  const s3 = new S3Client({ region: config.region, endpoint: config.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const up = await putVideoFile(s3, config.bucket, config.prefix, file);
  s3.destroy();
  const r = await fetch(`${s.apiUrl}/_local/s3-event`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s3CreatedEvent([up])) });
  return { up, status: r.status, body: (await r.json()) as { code?: string } };
}

const indexed = (s: LocalStack, id: string) => waitFor(`${id} indexed`, async () => (await s.store.getVideo(id))?.status === 'indexed', 60_000, 200);

let data: string;
let a: UploadedFile;
let b: UploadedFile;
let junk: UploadedFile;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-data-'));
  data = join(dir, 'data');
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kept uploads', () => {
  it('a first run keeps two videos and a failed upload', async () => {
    stack = await start(data);
    a = (await upload(stack, makeVideo(dir, 'a.mp4', 3))).up;
    b = (await upload(stack, makeVideo(dir, 'b.mp4', 3))).up;
    writeFileSync(join(dir, 'junk.mp4'), 'not a video at all\n'.repeat(100));
    const j = await upload(stack, join(dir, 'junk.mp4'));
    junk = j.up;
    expect(j.body.results?.[0]?.outcome).toBe('failed');
    await indexed(stack, a.videoId);
    await indexed(stack, b.videoId);
    await stack.stop();
    stack = undefined;
    for (const id of [a.videoId, b.videoId, junk.videoId]) expect(existsSync(join(data, 'objects', `${id}.bin`))).toBe(true);
  }, 120_000);

  it('at the next start: a bad record is quarantined, an emptied copy fails its video, a failed upload is pruned; the rest goes on', async () => {
    const objects = join(data, 'objects');
    writeFileSync(join(objects, '0123456789abcdef0123.json'), '{"bucket": "vidx-videos", "key": trunc');
    truncateSync(join(objects, `${b.videoId}.bin`), 0);
    stack = await start(data, { keepFailedHours: 0 });
    const r = stack.recovery;
    expect(r.quarantined.map((q) => q.file).sort()).toEqual([join(objects, '0123456789abcdef0123.json'), join(objects, `${b.videoId}.bin`)].sort());
    expect(r.quarantined.find((q) => q.file.endsWith(`${b.videoId}.bin`))!.why).toMatch(/0 bytes/);
    expect(readdirSync(join(objects, 'quarantine')).filter((f) => f.endsWith('.why'))).toHaveLength(2);
    // Emptied: not put back as a 0-byte object; its video says why instead of still "indexed".
    const vb = await stack.store.getVideo(b.videoId);
    expect(vb).toMatchObject({ status: 'failed', errorCode: 'KEPT_COPY_DAMAGED' });
    expect(vb!.reason).toContain(`${b.videoId}.bin`);
    // The failed upload's copy is pruned: neither on disk nor back in memory.
    expect(r.pruned).toEqual([junk.videoId]);
    expect(existsSync(join(objects, `${junk.videoId}.bin`))).toBe(false);
    expect(r.restored).toBe(1);
    const media = await fetch(`${stack.apiUrl}/videos/${a.videoId}/media`);
    const { url } = (await media.json()) as { url: string };
    const bytes = await fetch(url);
    expect(bytes.status).toBe(200);
    expect((await bytes.arrayBuffer()).byteLength).toBe(statSync(join(objects, `${a.videoId}.bin`)).size);
    expect((await stack.store.getVideo(a.videoId))?.status).toBe('indexed');
  }, 120_000);

  it('a full disk while keeping an upload is 507 DISK_FULL naming the file, and the stack goes on', async () => {
    expect(existsSync('/dev/full')).toBe(true);
    const file = makeVideo(dir, 'c.mp4', 2);
    const { videoIdFor } = await import('../../core/records.ts');
    const id = videoIdFor(stack!.resources.bucket, 'videos/c.mp4');
    const part = join(data, 'objects', `${id}.bin.part`);
    symlinkSync('/dev/full', part); // every write to it fails with ENOSPC
    const r = await upload(stack!, file);
    expect(r.status).toBe(507);
    expect(r.body.code).toBe('DISK_FULL');
    expect(r.body.message).toContain(part);
    expect((await fetch(`${stack!.apiUrl}/videos`)).status).toBe(200);
    rmSync(part, { force: true });
    const again = await upload(stack!, file);
    expect(again.status).toBe(200);
    await indexed(stack!, id);
    await stack!.stop();
    stack = undefined;
  }, 120_000);
});

describe('a damaged index', () => {
  const copy = (name: string) => {
    const to = join(dir, name);
    cpSync(data, to, { recursive: true });
    return to;
  };

  async function refused(dataDir: string): Promise<{ code: string; message: string; hint: string }> {
    const e: unknown = await start(dataDir).then(
      (s) => s.stop().then(() => new Error('the stack started on a damaged index')),
      (err: unknown) => err,
    );
    // Duck-typed: each start imports the modules afresh, so VidxError is another class here.
    const v = e as { name?: string; code?: string; message?: string; hint?: string };
    if (v.name !== 'VidxError') throw e;
    return { code: v.code!, message: v.message!, hint: v.hint! };
  }

  it('junk in CURRENT is DATA_INDEX_DAMAGED naming CURRENT and what to do, not a crash', async () => {
    const d = copy('junk-current');
    writeFileSync(join(d, 'dynamodb', 'CURRENT'), 'this is not a manifest name\n');
    const e = await refused(d);
    expect(e.code).toBe('DATA_INDEX_DAMAGED');
    expect(e.message).toContain(join(d, 'dynamodb', 'CURRENT'));
    expect(e.hint).toContain('move');
  }, 60_000);

  it('a truncated table file is DATA_INDEX_DAMAGED naming it', async () => {
    const d = copy('truncated-ldb');
    const db = join(d, 'dynamodb');
    const tables = readdirSync(db).filter((f) => f.endsWith('.ldb'));
    expect(tables.length).toBeGreaterThan(0); // reopening the index turned its log into tables
    for (const t of tables) truncateSync(join(db, t), Math.floor(statSync(join(db, t)).size / 2));
    const e = await refused(d);
    expect(e.code).toBe('DATA_INDEX_DAMAGED');
    expect(tables.some((t) => e.message.includes(t))).toBe(true);
  }, 60_000);

  it('moved aside as the hint says, the index is rebuilt from the kept uploads', async () => {
    const d = copy('moved-aside');
    renameSync(join(d, 'dynamodb'), join(d, 'dynamodb.damaged'));
    stack = await start(d);
    expect(stack.recovery.segmented.map((s) => s.outcome).sort()).toEqual(['queued', 'queued']);
    await indexed(stack, a.videoId);
  }, 90_000);
});
