/**
 * The detection models' manifests (task detect-actions / detect-people), their label lists,
 * loading by task, and the official checkpoint addresses.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { ActionDetectorManifestSchema, ManifestSchema, ModelManifestSchema, PersonDetectorManifestSchema, taskOf } from '../../core/model/manifest.ts';
import { loadManifest, loadModelManifest } from '../../core/pipeline/model-ref.ts';
import { loadAvaLabels, loadCocoLabels } from '../../models/labels.ts';
import { manifestFor, SYNTHETIC_RULE } from '../../models/manifests.ts';
import { torchvisionHashPrefix, zooUrl } from '../../models/pull.ts';

const synthetic = { kind: 'synthetic' as const, rule: SYNTHETIC_RULE };
const sharedAva = readFileSync(new URL('../../../shared/reference/ava_v2.2_labels.txt', import.meta.url), 'utf8').trim().split('\n');

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vidx-detect-manifests-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('label lists', () => {
  it('AVA v2.2: the 80 actions of the shared reference list, in class-index order', () => {
    expect(loadAvaLabels()).toEqual(sharedAva);
    expect(loadAvaLabels()[0]).toBe('bend/bow (at the waist)');
  });

  it("COCO: torchvision's 91 label ids, background at 0, person at 1, N/A for unused ids", () => {
    const coco = loadCocoLabels();
    expect(coco).toHaveLength(91);
    expect(coco.slice(0, 3)).toEqual(['__background__', 'person', 'bicycle']);
    expect(coco.filter((l) => l === 'N/A')).toHaveLength(10);
    expect([coco[72], coco[90]]).toEqual(['tv', 'toothbrush']);
  });
});

describe('detection manifests', () => {
  it('slowfast_r50_detection: detect-actions, its own AVA window, whole frame at short side 256, boxes in, 80 probabilities out', () => {
    const m = manifestFor('slowfast_r50_detection', synthetic, false);
    expect(ActionDetectorManifestSchema.parse(m)).toEqual(m);
    expect(m).toMatchObject({
      task: 'detect-actions',
      inputs: [
        { name: 'slow', shape: ['N', 3, 8, 'H', 'W'], frames: 8 },
        { name: 'fast', shape: ['N', 3, 32, 'H', 'W'], frames: 32 },
      ],
      boxes: { name: 'boxes' },
      output: { name: 'probs', classes: 80 },
      frames: 32,
      samplingRate: 2,
      alpha: 4,
      fps: 30,
      shortSide: 256,
      inputRange: [0, 1],
      mean: [0.45, 0.45, 0.45],
      std: [0.225, 0.225, 0.225],
      actionThreshold: 0.5,
      uint8: { onnx: 'slowfast_r50_detection.u8.onnx', onnxFloat16: null, input: 'frames' },
    });
    expect(m.reference).toContain('video_detection');
  });

  it("fasterrcnn_resnet50_fpn_v2: detect-people, torchvision's transform, person label 1, score threshold 0.8", () => {
    const m = manifestFor('fasterrcnn_resnet50_fpn_v2', synthetic, false);
    expect(PersonDetectorManifestSchema.parse(m)).toEqual(m);
    expect(m).toMatchObject({
      task: 'detect-people',
      input: { name: 'image', shape: [1, 3, 'H', 'W'] },
      scoreThresholdInput: 'score_threshold',
      outputs: { boxes: 'boxes', scores: 'scores', labels: 'labels' },
      minSize: 800,
      maxSize: 1333,
      sizeDivisible: 32,
      inputRange: [0, 1],
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      scoreThreshold: 0.8,
      nmsThreshold: 0.5,
      maxDetections: 100,
      personLabel: 1,
      // The graph pads the normalized image to sizeDivisible: image_u8 takes the scaled frame as it is.
      uint8: { onnx: 'fasterrcnn_resnet50_fpn_v2.u8.onnx', onnxFloat16: null, input: 'image_u8', padTo: 32 },
    });
  });

  it('are told apart by task; a manifest without one is a classifier', () => {
    expect(taskOf('slowfast_r50')).toBe('classify');
    expect(taskOf('slowfast_r50_detection')).toBe('detect-actions');
    expect(taskOf('fasterrcnn_resnet50_fpn_v2')).toBe('detect-people');
    const classifier = manifestFor('i3d_r50', synthetic, false);
    const { task: _task, ...untasked } = classifier;
    expect(ModelManifestSchema.parse(untasked)).toEqual(classifier);
    // The classifier schema refuses a detector's manifest, and the other way round.
    expect(ManifestSchema.safeParse(manifestFor('slowfast_r50_detection', synthetic, false)).success).toBe(false);
    expect(PersonDetectorManifestSchema.safeParse(classifier).success).toBe(false);
  });

  it('load by task: the wrong kind of model is refused with MODEL_MANIFEST_BAD naming both', async () => {
    const path = join(work, 'fasterrcnn_resnet50_fpn_v2.json');
    await writeFile(path, JSON.stringify(manifestFor('fasterrcnn_resnet50_fpn_v2', synthetic, false)));
    expect(loadModelManifest(path, 'detect-people').architecture).toBe('fasterrcnn_resnet50_fpn_v2');
    let err: unknown;
    try {
      loadModelManifest(path, 'detect-actions');
    } catch (e) {
      err = e;
    }
    expect(isVidxError(err, 'MODEL_MANIFEST_BAD')).toBe(true);
    expect((err as Error).message).toContain('detect-people model (fasterrcnn_resnet50_fpn_v2), not a detect-actions one');
    // The segmenter, worker and analyze load classifiers only.
    expect(() => loadManifest(path)).toThrow(/not a vidx model manifest/);
  });
});

describe('official checkpoints', () => {
  it('are fetched from the PyTorchVideo model zoo (ava/) and download.pytorch.org', () => {
    expect(zooUrl('slowfast_r50_detection', {})).toBe('https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/ava/SLOWFAST_8x8_R50_DETECTION.pyth');
    expect(zooUrl('fasterrcnn_resnet50_fpn_v2', {})).toBe('https://download.pytorch.org/models/fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth');
    expect(zooUrl('slowfast_r50', {})).toBe('https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics/SLOWFAST_8x8_R50.pyth');
    expect(zooUrl('fasterrcnn_resnet50_fpn_v2', { VIDX_MODEL_ZOO_URL: 'http://127.0.0.1:9/zoo/' })).toBe('http://127.0.0.1:9/zoo/fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth');
  });

  it("check torchvision's file-name hash prefix", () => {
    expect(torchvisionHashPrefix('fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth')).toBe('dd69338a');
    expect(torchvisionHashPrefix('SLOWFAST_8x8_R50_DETECTION.pyth')).toBeNull();
  });
});
