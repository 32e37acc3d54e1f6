/**
 * `vidx models ...` as a user runs it (node bin/vidx.js): synthesize and convert give the golden
 * logits, pull works against a local model zoo (progress, sha256, cache, list) and fails fast
 * with no server.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVidx } from '../helpers/cli.ts';
import { InferenceEngine } from '../../core/model/engine.ts';
import { ARCHITECTURES, ManifestSchema, type Manifest } from '../../core/model/manifest.ts';
import { synthesizeStateDict, syntheticInput } from '../../models/synthetic.ts';
import { writeCheckpoint } from '../../models/torch/index.ts';
import { readGolden } from '../models/golden.ts';
import { startZooServer, type ZooServer } from '../models/store-zoo-server.ts';

const golden = readGolden();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const vidx = (args: string[], env: Record<string, string> = {}): Promise<Run> => runVidx(args, env);

function readManifest(path: string): Manifest {
  return ManifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

async function maxDiffFromGolden(manifestPath: string): Promise<number> {
  const engine = await InferenceEngine.load(manifestPath, { device: 'cpu', threads: 2 });
  try {
    const shape = golden.i3d_r50.inputs.video!;
    const logits = await engine.run({ video: syntheticInput('video', shape) }, 1);
    return logits.reduce((m, v, i) => Math.max(m, Math.abs(v - golden.i3d_r50.logits[i]!)), 0);
  } finally {
    await engine.close();
  }
}

describe('vidx models', () => {
  let work: string;
  let checkpoint: string;
  let sha256: string;
  let zoo: ZooServer;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'vidx-cli-models-'));
    checkpoint = join(work, 'I3D_8x8_R50.pyth');
    await writeCheckpoint(checkpoint, synthesizeStateDict('i3d_r50'), { format: 'zip' });
    sha256 = createHash('sha256').update(readFileSync(checkpoint)).digest('hex');
    zoo = await startZooServer({ 'I3D_8x8_R50.pyth': checkpoint });
  }, 120_000);

  afterAll(async () => {
    await zoo?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('synthesize i3d_r50 --out writes the pair (trained: false) and it gives the golden logits', async () => {
    const out = join(work, 'synth');
    const r = await vidx(['models', 'synthesize', 'i3d_r50', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(out, 'i3d_r50.onnx')}`);
    expect(r.stdout).toContain(`wrote ${join(out, 'i3d_r50.json')}`);
    const m = readManifest(join(out, 'i3d_r50.json'));
    expect(m).toMatchObject({ architecture: 'i3d_r50', onnx: 'i3d_r50.onnx', trained: false, source: { kind: 'synthetic' } });
    expect(await maxDiffFromGolden(join(out, 'i3d_r50.json'))).toBeLessThan(1e-3);
  }, 120_000);

  it('convert i3d_r50 --checkpoint --out writes the pair (trained: true, file + sha256) and it gives the golden logits', async () => {
    const out = join(work, 'converted');
    const r = await vidx(['models', 'convert', 'i3d_r50', '--checkpoint', checkpoint, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(out, 'i3d_r50.onnx')}`);
    expect(r.stdout).toContain(`checkpoint sha256 ${sha256}`);
    const m = readManifest(join(out, 'i3d_r50.json'));
    expect(m.trained).toBe(true);
    expect(m.source).toEqual({ kind: 'checkpoint', url: null, file: 'I3D_8x8_R50.pyth', sha256 });
    expect(await maxDiffFromGolden(join(out, 'i3d_r50.json'))).toBeLessThan(1e-3);
  }, 120_000);

  it('convert refuses a checkpoint of another architecture with a clear error', async () => {
    const r = await vidx(['models', 'convert', 'slowfast_r50', '--checkpoint', checkpoint, '--out', join(work, 'wrong')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('MODEL_STATE_MISMATCH');
    expect(r.stderr).toContain('slowfast_r50');
  }, 60_000);

  it('pull downloads with a progress bar, records the sha256, caches; list shows it', async () => {
    const cache = join(work, 'cache');
    const r = await vidx(['models', 'pull', 'i3d_r50', '--cache', cache], { VIDX_MODEL_ZOO_URL: zoo.base() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/pull i3d_r50 \[[█░ -]*\] 100% \| \d+\.\d MB \/ \d+\.\d MB/);
    expect(r.stderr).toContain('converting to ONNX');
    expect(r.stdout).toContain(`wrote ${join(cache, 'official', 'i3d_r50.json')}`);
    expect(r.stdout).toContain(`sha256 ${sha256}`);
    const m = readManifest(join(cache, 'official', 'i3d_r50.json'));
    expect(m.source).toEqual({ kind: 'checkpoint', url: `${zoo.base()}/I3D_8x8_R50.pyth`, file: 'I3D_8x8_R50.pyth', sha256 });

    const again = await vidx(['models', 'pull', 'i3d_r50', '--cache', cache], { VIDX_MODEL_ZOO_URL: zoo.base() });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already cached');

    const listed = await vidx(['models', 'list'], { VIDX_CACHE: cache });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`cache: ${cache}`);
    expect(listed.stdout).toMatch(new RegExp(`i3d_r50\\n  official:  ${join(cache, 'official', 'i3d_r50.json').replace(/[.]/g, '\\.')} \\(sha256 ${sha256.slice(0, 12)}`));
    expect(listed.stdout).toMatch(/slowfast_r50\n {2}official: {2}-\n {2}synthetic: -/);

    const json = await vidx(['models', 'list', '--cache', cache, '--json']);
    const parsed = JSON.parse(json.stdout) as { cache: string; models: Array<{ architecture: string; official: { trained: boolean } | null }> };
    expect(parsed.cache).toBe(cache);
    expect(parsed.models.map((x) => [x.architecture, x.official?.trained ?? null])).toEqual(ARCHITECTURES.map((a) => [a, a === 'i3d_r50' ? true : null]));
  }, 120_000);

  it('pull with no server fails fast with MODEL_DOWNLOAD_FAILED and says to convert a local file', async () => {
    // The CLI's own start-up (tsx + every command's imports) takes seconds on a loaded 2-core box;
    // what must be fast is the failure itself: compare with a command that does no I/O.
    const baseline = await vidx(['models', 'list', '--cache', join(work, 'offline')]);
    const r = await vidx(['models', 'pull', 'i3d_r50', '--cache', join(work, 'offline')], { VIDX_MODEL_ZOO_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.ms - baseline.ms).toBeLessThan(2500);
    expect(r.stderr).toContain('[MODEL_DOWNLOAD_FAILED]');
    expect(r.stderr).toContain('vidx models convert i3d_r50 --checkpoint I3D_8x8_R50.pyth --out');
  });

  it('an unknown architecture is refused with the known ones listed', async () => {
    const r = await vidx(['models', 'synthesize', 'resnet50', '--out', join(work, 'x')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown architecture "resnet50"; known: slowfast_r50, i3d_r50, i3d_inception_v1, mars_resnext101, tps_swin_tiny');
    expect(r.stderr).toContain('[MODEL_UNKNOWN_ARCH]');
  });
});
