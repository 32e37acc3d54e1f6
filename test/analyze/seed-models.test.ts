/**
 * `vidx analyze` end to end with the other seed papers' models (synthesized I3D Inception-V1,
 * MARS ResNeXt-101 and TPS Swin-T) on a short generated video: each model's own window plan, its own value range
 * and normalization (from the manifest alone), and a valid result.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestSchema, type Manifest } from '../../core/model/manifest.ts';
import { AnalysisResultSchema } from '../../core/result.ts';
import { probe } from '../../core/video/probe.ts';
import { readWindows } from '../../core/video/window-source.ts';
import { planWindows } from '../../core/video/windows.ts';
import { synthesize } from '../../models/convert.ts';
import { makeVideo, tempDir } from '../helpers/media.ts';

const exec = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const tmp = tempDir('vidx-analyze-seed-');
let video = '';

beforeAll(async () => {
  video = (await makeVideo(tmp.dir, { seconds: 3, fps: 25, width: 320, height: 240, pattern: 'testsrc', name: 'three' })).path;
}, 60_000);

afterAll(() => tmp.cleanup());

function range(values: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

describe.each([
  // [arch, windows in 3 s, the normalized values' bounds: (byte 0 and 255 through the manifest)]
  { arch: 'i3d_inception_v1', windows: 1, bounds: [-1, 1] },
  { arch: 'mars_resnext101', windows: 4, bounds: [0 - 114.7748, 255 - 99.475] },
  { arch: 'tps_swin_tiny', windows: 1, bounds: [(0 - 123.675) / 58.395, (255 - 103.53) / 57.375] },
] as const)('$arch', ({ arch, windows, bounds }) => {
  let manifestPath = '';
  let manifest: Manifest;

  beforeAll(async () => {
    manifestPath = (await synthesize(arch, join(tmp.dir, arch))).manifestPath;
    manifest = ManifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  }, 120_000);

  it("decodes a window in the model's own value range, from the manifest alone", async () => {
    const info = await probe(video);
    const plan = planWindows(info.duration, manifest);
    expect(plan).toHaveLength(windows);
    const batches = readWindows(video, manifest, { info, windows: plan.slice(0, 1), batch: 1 });
    const first = await batches.next();
    await batches.return(undefined);
    const input = first.value!.inputs.video!;
    expect(input.length).toBe(3 * manifest.frames * manifest.crop * manifest.crop);
    const [lo, hi] = range(input);
    // Inside the range a byte can map to, and most of it used (testsrc has near-black and near-white).
    // (float32 rounding of the table's steps: within 1e-5 of the exact bounds)
    expect(lo).toBeGreaterThanOrEqual(bounds[0] - 1e-5);
    expect(hi).toBeLessThanOrEqual(bounds[1] + 1e-5);
    expect(hi - lo).toBeGreaterThan(0.7 * (bounds[1] - bounds[0]));
  });

  it('vidx analyze --model runs end to end: one scored window per planned window', async () => {
    const r = await exec(process.execPath, [join(ROOT, 'bin/vidx.js'), 'analyze', video, '--model', manifestPath, '--json', '--device', 'cpu', '--batch', '2'], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, VIDX_THREADS: '2' },
    });
    const result = AnalysisResultSchema.parse(JSON.parse(r.stdout));
    expect(result.model).toMatchObject({ architecture: arch, trained: false });
    expect(result.windows.map((w) => [w.start, w.end])).toEqual(planWindows(result.video.duration, manifest).map((w) => [w.start, w.end]));
    expect(result.windows).toHaveLength(windows);
    for (const w of result.windows) {
      expect(w.top).toHaveLength(5);
      expect(manifest.labels).toEqual(expect.arrayContaining(w.top.map((t) => t.label)));
    }
  }, 300_000);
});
