/**
 * `vidx models synthesize|convert` for the two detection models, as a user runs them
 * (node bin/vidx.js): the synthesized pairs give the reference outputs through the product's
 * loaders (ActionDetector, PersonDetector), and converting the official checkpoint formats (a
 * .pyth dict with model_state; a plain .pth state dict) yields the same graphs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionDetector, PersonDetector, type PixelBox } from '../../core/model/detectors.ts';
import { ModelManifestSchema } from '../../core/model/manifest.ts';
import { loadAvaLabels } from '../../models/labels.ts';
import { synthesizeStateDict, syntheticInput } from '../../models/synthetic.ts';
import { writeCheckpoint } from '../../models/torch/index.ts';
import { maxAbsDiff, nearestRowDistances, readActionDetectorGolden, readPersonDetectorGolden } from '../models/detection-golden.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function vidx(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/vidx.js'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function readModelManifest(path: string) {
  return ModelManifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vidx-cli-detect-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('vidx models synthesize|convert slowfast_r50_detection', () => {
  const golden = readActionDetectorGolden();

  it('synthesize writes <dir>/slowfast_r50_detection.onnx + .json, and it gives the reference probabilities', async () => {
    const dir = join(work, 'sfd');
    const r = await vidx(['models', 'synthesize', 'slowfast_r50_detection', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(dir, 'slowfast_r50_detection.onnx')}`);
    expect(r.stdout).toContain('inputs slow [Nx3x8xHxW], fast [Nx3x32xHxW], boxes [Kx5]');
    const m = readModelManifest(join(dir, 'slowfast_r50_detection.json'));
    expect(m).toMatchObject({ task: 'detect-actions', frames: 32, samplingRate: 2, alpha: 4, fps: 30, shortSide: 256, inputRange: [0, 1], trained: false });
    expect('labels' in m && m.labels).toEqual(loadAvaLabels());

    const model = await ActionDetector.load(join(dir, 'slowfast_r50_detection.json'), { device: 'cpu', threads: 2, log: () => {} });
    try {
      const [, , , height, width] = golden.inputs.slow!;
      const clip = Object.fromEntries(Object.entries(golden.inputs).map(([name, shape]) => [name, syntheticInput(name, shape)]));
      const boxes = golden.boxes.map((row) => row.slice(1) as unknown as PixelBox);
      const probs = await model.predict(clip, height!, width!, boxes);
      expect(probs).toHaveLength(golden.probs.length);
      // aligned=False RoIAlign emulated exactly (../shared/reference/README.md): a torch export is off by ~9e-3.
      probs.forEach((row, k) => expect(maxAbsDiff(row, golden.probs[k]!)).toBeLessThan(1e-4));
      expect(await model.predict(clip, height!, width!, [])).toEqual([]);
    } finally {
      await model.close();
    }
  }, 400_000);

  it('convert reads a PyTorchVideo .pyth (a dict whose model_state is the state dict) into the same graph', async () => {
    const checkpoint = join(work, 'SLOWFAST_8x8_R50_DETECTION.pyth');
    await writeCheckpoint(checkpoint, synthesizeStateDict('slowfast_r50_detection'), { format: 'zip', extra: { epoch: 20, cfg: 'SLOWFAST_8x8_R50_DETECTION' } });
    const dir = join(work, 'sfd-converted');
    const r = await vidx(['models', 'convert', 'slowfast_r50_detection', '--checkpoint', checkpoint, '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    const m = readModelManifest(join(dir, 'slowfast_r50_detection.json'));
    expect(m).toMatchObject({ trained: true, source: { kind: 'checkpoint', file: 'SLOWFAST_8x8_R50_DETECTION.pyth' } });
    expect(readFileSync(join(dir, 'slowfast_r50_detection.onnx')).equals(readFileSync(join(work, 'sfd', 'slowfast_r50_detection.onnx')))).toBe(true);
  }, 300_000);
});

describe('vidx models synthesize|convert fasterrcnn_resnet50_fpn_v2', () => {
  const golden = readPersonDetectorGolden();

  it('synthesize writes <dir>/fasterrcnn_resnet50_fpn_v2.onnx + .json, and it gives the reference detections', async () => {
    const dir = join(work, 'frcnn');
    const r = await vidx(['models', 'synthesize', 'fasterrcnn_resnet50_fpn_v2', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(dir, 'fasterrcnn_resnet50_fpn_v2.onnx')}`);
    const m = readModelManifest(join(dir, 'fasterrcnn_resnet50_fpn_v2.json'));
    expect(m).toMatchObject({ task: 'detect-people', minSize: 800, maxSize: 1333, sizeDivisible: 32, scoreThreshold: 0.8, personLabel: 1, trained: false });
    if (m.task !== 'detect-people') throw new Error('unreachable');
    expect(m.labels[m.personLabel]).toBe('person');

    const detector = await PersonDetector.load(join(dir, 'fasterrcnn_resnet50_fpn_v2.json'), { device: 'cpu', threads: 2, log: () => {} });
    try {
      const [, , height, width] = golden.input.shape;
      const image = syntheticInput('image', golden.input.shape);
      // Threshold 0 as the reference: untrained scores are all about 1/91.
      const all = await detector.detect(image, height!, width!, { scoreThreshold: 0 });
      expect(all.scores).toHaveLength(golden.detections.count);
      const boxes = Float32Array.from(Array.from(all.scores, (_, i) => [...all.boxes.subarray(4 * i, 4 * i + 4), Number(all.labels[i])]).flat());
      // Near-equal scores may reorder: every reference (box, label) is among ours.
      const expected = golden.detections.boxes.map((b, k) => [...b, golden.detections.labels[k]!]);
      expect(Math.max(...nearestRowDistances(boxes, 5, expected))).toBeLessThan(1e-2);
      expect(maxAbsDiff(all.scores, golden.detections.scores)).toBeLessThan(1e-5);
      for (let i = 1; i < all.scores.length; i++) expect(all.scores[i]).toBeLessThanOrEqual(all.scores[i - 1]!);
      // The default threshold is the manifest's (0.8): nothing untrained gets past it (a small
      // frame: the box head's cost is per proposal, and a small frame has few).
      const small = syntheticInput('image', [1, 3, 32, 32]);
      expect((await detector.detect(small, 32, 32, { scoreThreshold: 0 })).scores.length).toBeGreaterThan(0);
      expect((await detector.detect(small, 32, 32)).scores).toHaveLength(0);
      await expect(detector.detect(image, 100, 100)).rejects.toThrow(/multiple of 32/);
    } finally {
      await detector.close();
    }
  }, 400_000);

  it('convert reads a torchvision .pth (a plain state dict) into the same graph', async () => {
    const checkpoint = join(work, 'fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth');
    await writeCheckpoint(checkpoint, synthesizeStateDict('fasterrcnn_resnet50_fpn_v2'), { format: 'zip' });
    const dir = join(work, 'frcnn-converted');
    const r = await vidx(['models', 'convert', 'fasterrcnn_resnet50_fpn_v2', '--checkpoint', checkpoint, '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    const m = readModelManifest(join(dir, 'fasterrcnn_resnet50_fpn_v2.json'));
    expect(m).toMatchObject({ trained: true, source: { kind: 'checkpoint', file: 'fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth' } });
    expect(readFileSync(join(dir, 'fasterrcnn_resnet50_fpn_v2.onnx')).equals(readFileSync(join(work, 'frcnn', 'fasterrcnn_resnet50_fpn_v2.onnx')))).toBe(true);
  }, 300_000);
});
