/**
 * `vidx models ...` for the other seed papers' models (I3D Inception-V1, MARS, TPS), as a user
 * runs them (node bin/vidx.js):
 * synthesize writes `<dir>/<arch>.onnx` + `<arch>.json` (input `video`, output `logits`) giving
 * the reference logits; convert reads each released checkpoint form into the same graph; pull
 * fetches rgb_imagenet.pt and says plainly where MARS and TPS must be downloaded by hand.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { InferenceEngine } from '../../core/model/engine.ts';
import { ManifestSchema, type Manifest } from '../../core/model/manifest.ts';
import { synthesizeStateDict, syntheticInput } from '../../models/synthetic.ts';
import type { StateDict } from '../../models/tensor.ts';
import { writeCheckpoint } from '../../models/torch/index.ts';
import { clipLogits, readSeedGolden } from '../models/golden.ts';
import { startZooServer, type ZooServer } from '../models/store-zoo-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const golden = readSeedGolden();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function vidx(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/vidx.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function readManifest(path: string): Manifest {
  return ManifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

function withoutBatchCounters(sd: StateDict): StateDict {
  return new Map([...sd].filter(([k]) => !k.endsWith('num_batches_tracked')));
}

describe('vidx models (seed papers)', () => {
  let work: string;
  let zoo: ZooServer;
  const rgbImagenet = () => join(work, 'rgb_imagenet.pt');
  const synthesized = (arch: string) => join(work, 'synth', `${arch}.onnx`);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'vidx-cli-seed-'));
    // As released: piergiaj's rgb_imagenet.pt is a plain state dict saved before num_batches_tracked existed.
    await writeCheckpoint(rgbImagenet(), withoutBatchCounters(synthesizeStateDict('i3d_inception_v1')), { format: 'legacy' });
    zoo = await startZooServer({ 'rgb_imagenet.pt': rgbImagenet() });
  }, 120_000);

  afterAll(async () => {
    await zoo?.close();
    await rm(work, { recursive: true, force: true });
  });

  // The convert tests below compare with these files.
  it.each(['i3d_inception_v1', 'mars_resnext101', 'tps_swin_tiny'] as const)(
    'synthesize %s --out writes the pair: input video, output logits, the reference logits',
    async (arch) => {
      const out = join(work, 'synth');
      const r = await vidx(['models', 'synthesize', arch, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`wrote ${join(out, `${arch}.onnx`)}`);
      expect(r.stdout).toContain(`wrote ${join(out, `${arch}.json`)}`);
      const manifestPath = join(out, `${arch}.json`);
      expect(readManifest(manifestPath)).toMatchObject({ architecture: arch, onnx: `${arch}.onnx`, trained: false, output: { name: 'logits', classes: 400 } });

      const session = await ort.InferenceSession.create(synthesized(arch));
      expect(session.inputNames).toEqual(['video']);
      expect(session.outputNames[0]).toBe('logits');
      await session.release();

      const engine = await InferenceEngine.load(manifestPath, { device: 'cpu', threads: 2 });
      try {
        const logits = await engine.run({ video: syntheticInput('video', golden[arch].inputs.video!) }, 1);
        const expected = clipLogits(golden[arch]);
        expect(logits.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!)), 0)).toBeLessThan(1e-3);
      } finally {
        await engine.close();
      }
    },
    300_000,
  );

  it('convert i3d_inception_v1 reads rgb_imagenet.pt (a plain state dict) into the synthesized graph', async () => {
    const out = join(work, 'i3d-plain');
    const r = await vidx(['models', 'convert', 'i3d_inception_v1', '--checkpoint', rgbImagenet(), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readManifest(join(out, 'i3d_inception_v1.json'))).toMatchObject({ trained: true, source: { kind: 'checkpoint', file: 'rgb_imagenet.pt' } });
    expect(readFileSync(join(out, 'i3d_inception_v1.onnx')).equals(readFileSync(synthesized('i3d_inception_v1')))).toBe(true);
  }, 180_000);

  it("convert tps_swin_tiny reads mmaction's {meta, state_dict} (ModelScope's form; int64 relative_position_index kept)", async () => {
    const checkpoint = join(work, 'tps_swin_tiny.pth');
    await writeCheckpoint(checkpoint, synthesizeStateDict('tps_swin_tiny'), { format: 'zip', stateDictKey: 'state_dict', extra: { meta: { epoch: 30, mmaction_version: '0.24.1' } } });
    const out = join(work, 'tps-mmaction');
    const r = await vidx(['models', 'convert', 'tps_swin_tiny', '--checkpoint', checkpoint, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readManifest(join(out, 'tps_swin_tiny.json'))).toMatchObject({ trained: true, source: { kind: 'checkpoint', file: 'tps_swin_tiny.pth' } });
    expect(readFileSync(join(out, 'tps_swin_tiny.onnx')).equals(readFileSync(synthesized('tps_swin_tiny')))).toBe(true);
  }, 180_000);

  it("convert mars_resnext101 reads MARS's {arch, state_dict} with the module. prefix", async () => {
    const checkpoint = join(work, 'MARS_Kinetics_16f.pth');
    const prefixed: StateDict = new Map([...synthesizeStateDict('mars_resnext101')].map(([k, t]) => [`module.${k}`, t]));
    await writeCheckpoint(checkpoint, prefixed, { format: 'zip', stateDictKey: 'state_dict', extra: { arch: 'resnext-101' } });
    const out = join(work, 'mars');
    const r = await vidx(['models', 'convert', 'mars_resnext101', '--checkpoint', checkpoint, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readManifest(join(out, 'mars_resnext101.json'))).toMatchObject({ trained: true, source: { kind: 'checkpoint', file: 'MARS_Kinetics_16f.pth' } });
    expect(readFileSync(join(out, 'mars_resnext101.onnx')).equals(readFileSync(synthesized('mars_resnext101')))).toBe(true);
  }, 180_000);

  it('pull i3d_inception_v1 fetches rgb_imagenet.pt (here from a mirror) and caches the converted model', async () => {
    const cache = join(work, 'cache');
    const r = await vidx(['models', 'pull', 'i3d_inception_v1', '--cache', cache], { VIDX_MODEL_ZOO_URL: zoo.base() });
    expect(r.code, r.stderr).toBe(0);
    const m = readManifest(join(cache, 'official', 'i3d_inception_v1.json'));
    expect(m.source).toMatchObject({ kind: 'checkpoint', url: `${zoo.base()}/rgb_imagenet.pt`, file: 'rgb_imagenet.pt' });
    expect(readFileSync(join(cache, 'official', 'i3d_inception_v1.onnx')).equals(readFileSync(synthesized('i3d_inception_v1')))).toBe(true);
  }, 180_000);

  it.each([
    ['mars_resnext101', 'https://drive.google.com/drive/folders/1OVhBnZ_FmqMSj6gw9yyrxJJR8yRINb_G'],
    ['tps_swin_tiny', 'https://modelscope.cn/models/damo/cv_pathshift_action-recognition'],
  ])('pull %s says plainly that it must be downloaded by hand, where, and how to convert it', async (arch, where) => {
    const cache = join(work, 'manual');
    const r = await vidx(['models', 'pull', arch, '--cache', cache]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[MODEL_MANUAL_DOWNLOAD]');
    expect(r.stderr).toContain(`${arch} has no stable public download address`);
    expect(r.stderr).toContain(where);
    expect(r.stderr).toContain(`vidx models convert ${arch} --checkpoint <file> --out ${join(cache, 'official')}`);
  }, 60_000);
});
