/** The model cache: where it is, what list() reports, broken entries, and the default model. */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { ManifestSchema, type Manifest } from '../../core/model/manifest.ts';
import { manifestFor, SYNTHETIC_RULE } from '../../models/manifests.ts';
import { cachedManifestPath, list, readCached, resolveCacheDir, resolveDefaultModel } from '../../models/store.ts';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vidx-store-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A manifest in the cache with a placeholder ONNX file (enough for the store, which never runs it). */
async function plant(cacheDir: string, kind: 'official' | 'synthetic', arch: 'slowfast_r50' | 'i3d_r50', manifest: unknown = undefined): Promise<string> {
  const dir = join(cacheDir, kind);
  await mkdir(dir, { recursive: true });
  const m =
    manifest ??
    (kind === 'official'
      ? manifestFor(arch, { kind: 'checkpoint', url: 'https://example.test/x.pyth', file: 'x.pyth', sha256: 'b'.repeat(64) }, true)
      : manifestFor(arch, { kind: 'synthetic', rule: SYNTHETIC_RULE }, false));
  await writeFile(join(dir, `${arch}.onnx`), 'placeholder');
  const u8 = typeof m === 'object' && m !== null && 'uint8' in m ? (m as Manifest).uint8 : undefined;
  for (const file of [u8?.onnx, u8?.onnxFloat16]) if (file) await writeFile(join(dir, file), 'placeholder');
  const path = join(dir, `${arch}.json`);
  await writeFile(path, typeof m === 'string' ? m : JSON.stringify(m));
  return path;
}

describe('resolveCacheDir', () => {
  it('takes --cache, else $VIDX_CACHE, else ~/.cache/vidx/models', () => {
    expect(resolveCacheDir('/tmp/a', { VIDX_CACHE: '/tmp/b' })).toBe('/tmp/a');
    expect(resolveCacheDir(undefined, { VIDX_CACHE: '/tmp/b' })).toBe('/tmp/b');
    expect(resolveCacheDir(undefined, { VIDX_CACHE: '' })).toBe(join(homedir(), '.cache', 'vidx', 'models'));
    expect(resolveCacheDir(undefined, {})).toBe(join(homedir(), '.cache', 'vidx', 'models'));
  });
});

describe('list and readCached', () => {
  it('lists every known architecture, with nothing cached in an empty cache', () => {
    const dir = join(work, 'empty');
    expect(list({ cache: dir })).toEqual({
      cacheDir: dir,
      entries: [
        { architecture: 'slowfast_r50', official: null, synthetic: null },
        { architecture: 'i3d_r50', official: null, synthetic: null },
      ],
    });
  });

  it('reports what is cached, and a broken entry as broken instead of failing the whole list', async () => {
    const dir = join(work, 'mixed');
    const official = await plant(dir, 'official', 'i3d_r50');
    await plant(dir, 'synthetic', 'slowfast_r50', '{ not json');
    const { entries } = list({ cache: dir });
    const i3d = entries.find((e) => e.architecture === 'i3d_r50')!;
    expect(i3d.official).toMatchObject({ kind: 'official', manifestPath: official });
    const sf = entries.find((e) => e.architecture === 'slowfast_r50')!;
    expect(sf.official).toBeNull();
    expect(sf.synthetic).toMatchObject({ kind: 'synthetic', error: expect.stringContaining('unusable') as string });
  });

  it('refuses a cached manifest that is invalid, for another architecture, or without its ONNX file', async () => {
    const dir = join(work, 'broken');
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isVidxError(e) ? `${e.code}: ${e.message}` : String(e);
      }
      return 'no error';
    };
    await plant(dir, 'official', 'i3d_r50', { schema: 'something else' });
    expect(code(() => readCached(dir, 'official', 'i3d_r50'))).toMatch(/^MODEL_CACHE_BROKEN/);

    await plant(dir, 'official', 'slowfast_r50', manifestFor('i3d_r50', { kind: 'synthetic', rule: 'r' }, false));
    expect(code(() => readCached(dir, 'official', 'slowfast_r50'))).toMatch(/MODEL_CACHE_BROKEN.*describes i3d_r50/);

    await plant(dir, 'synthetic', 'i3d_r50');
    await rm(join(dir, 'synthetic', 'i3d_r50.onnx'));
    expect(code(() => readCached(dir, 'synthetic', 'i3d_r50'))).toMatch(/MODEL_CACHE_BROKEN.*i3d_r50\.onnx is missing/);
  });
});

describe('resolveDefaultModel', () => {
  it('prefers the pulled official SlowFast R50', async () => {
    const dir = join(work, 'official');
    const path = await plant(dir, 'official', 'slowfast_r50');
    await plant(dir, 'synthetic', 'slowfast_r50');
    expect(await resolveDefaultModel({ cache: dir })).toEqual({ manifestPath: path, trained: true });
  });

  it('otherwise builds a synthetic SlowFast R50 in the cache on first use, and reuses it', async () => {
    const dir = join(work, 'fresh');
    const logged: string[] = [];
    const first = await resolveDefaultModel({ cache: dir, log: (m) => logged.push(m) });
    expect(first).toEqual({ manifestPath: cachedManifestPath(dir, 'synthetic', 'slowfast_r50'), trained: false });
    const manifest = ManifestSchema.parse(JSON.parse(readFileSync(first.manifestPath, 'utf8')));
    expect(manifest.architecture).toBe('slowfast_r50');
    expect(manifest.source).toEqual({ kind: 'synthetic', rule: SYNTHETIC_RULE });
    expect((await stat(join(dir, 'synthetic', 'slowfast_r50.onnx'))).size).toBeGreaterThan(100e6);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('vidx models pull slowfast_r50');

    const built = (await stat(first.manifestPath)).mtimeMs;
    const second = await resolveDefaultModel({ cache: dir, log: (m) => logged.push(m) });
    expect(second).toEqual(first);
    expect((await stat(second.manifestPath)).mtimeMs).toBe(built);
    expect(logged).toHaveLength(1);
  }, 120_000);
});
