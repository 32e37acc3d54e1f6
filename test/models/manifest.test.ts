/** Manifests: PyTorchVideo's documented inference settings, the graph's inputs, the label list. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { ARCHITECTURES, CLASSIFIER_ARCHITECTURES, ManifestSchema, windowSeconds } from '../../core/model/manifest.ts';
import { INPUTS, LOGITS } from '../../models/arch/index.ts';
import { loadKinetics400Labels, parseLabels } from '../../models/labels.ts';
import { manifestFor, modelFileNames, parseArchitecture, SYNTHETIC_RULE } from '../../models/manifests.ts';
import { readGolden, readSeedGolden } from './golden.ts';

const golden = { ...readGolden(), ...readSeedGolden() };
const sharedLabels = readFileSync(new URL('../../../shared/reference/kinetics400_labels.txt', import.meta.url), 'utf8').trim().split('\n');
const synthetic = { kind: 'synthetic' as const, rule: SYNTHETIC_RULE };

describe('Kinetics-400 labels', () => {
  it('are the 400 names of the shared reference list, in class-index order', () => {
    const labels = loadKinetics400Labels();
    expect(labels).toHaveLength(400);
    expect(labels).toEqual(sharedLabels);
    expect(labels[0]).toBe('abseiling');
  });

  it('hand out a copy each time (callers cannot corrupt the shared list)', () => {
    const a = loadKinetics400Labels();
    a[0] = 'changed';
    expect(loadKinetics400Labels()[0]).toBe('abseiling');
  });

  it('refuse a list with the wrong count, a blank line or a duplicate', () => {
    expect(parseLabels('a\nb\n', 2, 'x')).toEqual(['a', 'b']);
    expect(parseLabels('a\r\nb\r\n', 2, 'x')).toEqual(['a', 'b']);
    expect(() => parseLabels('a\nb\n', 3, 'x')).toThrow(/expected 3 labels, found 2/);
    expect(() => parseLabels('a\n\nb', 3, 'x')).toThrow(/line 2 is empty/);
    expect(() => parseLabels('a\nb\na', 3, 'x')).toThrow(/"a" appears on lines 1 and 3/);
  });
});

describe('manifestFor', () => {
  it('gives a schema-valid manifest for every clip classifier, naming its own files', () => {
    for (const arch of CLASSIFIER_ARCHITECTURES) {
      const m = manifestFor(arch, synthetic, false);
      expect(ManifestSchema.safeParse(m).success).toBe(true);
      expect(m.onnx).toBe(modelFileNames(arch).onnx);
      expect(modelFileNames(arch)).toEqual({ onnx: `${arch}.onnx`, manifest: `${arch}.json`, uint8: `${arch}.u8.onnx`, uint8Float16: `${arch}.u8.fp16.onnx` });
      expect(m.uint8).toEqual({ onnx: `${arch}.u8.onnx`, onnxFloat16: null, input: 'frames', layout: 'NTHWC', precision: 'float32' });
      expect(manifestFor(arch, synthetic, false, { float16: true }).uint8?.onnxFloat16).toBe(`${arch}.u8.fp16.onnx`);
      expect(m.output).toEqual({ name: LOGITS, classes: 400 });
      expect(m.labels).toEqual(sharedLabels);
      expect(m.reference).toMatch(/^https:\/\//);
    }
  });

  it('PyTorchVideo models: x / 255, mean 0.45, std 0.225, cited from PyTorchVideo', () => {
    for (const arch of ['slowfast_r50', 'i3d_r50'] as const) {
      const m = manifestFor(arch, synthetic, false);
      expect({ inputRange: m.inputRange, mean: m.mean, std: m.std }).toEqual({ inputRange: [0, 1], mean: [0.45, 0.45, 0.45], std: [0.225, 0.225, 0.225] });
      expect(m.reference).toMatch(/https:\/\/(pytorch\.org\/hub|github\.com\/facebookresearch\/pytorchvideo)/);
    }
  });

  it('i3d_inception_v1: the I3D paper\'s preprocessing (64 frames at 25 fps, side 256, crop 224, values in [-1, 1])', () => {
    const m = manifestFor('i3d_inception_v1', synthetic, false);
    expect({ frames: m.frames, samplingRate: m.samplingRate, alpha: m.alpha, fps: m.fps, shortSide: m.shortSide, crop: m.crop }).toEqual({
      frames: 64,
      samplingRate: 1,
      alpha: null,
      fps: 25,
      shortSide: 256,
      crop: 224,
    });
    expect({ inputRange: m.inputRange, mean: m.mean, std: m.std }).toEqual({ inputRange: [-1, 1], mean: [0, 0, 0], std: [1, 1, 1] });
    expect(windowSeconds(m)).toBeCloseTo(2.56, 12);
    expect(m.reference).toContain('https://github.com/deepmind/kinetics-i3d');
  });

  it('mars_resnext101: 16 frames at 25 fps, side 112, crop 112, 0..255 minus the ActivityNet mean, std 1', () => {
    const m = manifestFor('mars_resnext101', synthetic, false);
    expect({ frames: m.frames, samplingRate: m.samplingRate, fps: m.fps, shortSide: m.shortSide, crop: m.crop }).toEqual({ frames: 16, samplingRate: 1, fps: 25, shortSide: 112, crop: 112 });
    expect({ inputRange: m.inputRange, mean: m.mean, std: m.std }).toEqual({ inputRange: [0, 255], mean: [114.7748, 107.7354, 99.475], std: [1, 1, 1] });
    expect(m.reference).toContain('https://github.com/craston/MARS');
  });

  it("tps_swin_tiny: mmaction's Kinetics config (32 frames x interval 2, side 256, crop 224, ImageNet mean/std on 0..255)", () => {
    const m = manifestFor('tps_swin_tiny', synthetic, false);
    expect({ frames: m.frames, samplingRate: m.samplingRate, shortSide: m.shortSide, crop: m.crop }).toEqual({ frames: 32, samplingRate: 2, shortSide: 256, crop: 224 });
    expect({ inputRange: m.inputRange, mean: m.mean, std: m.std }).toEqual({ inputRange: [0, 255], mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] });
    expect(m.reference).toContain('https://github.com/MartinXM/TPS');
  });

  it('slowfast_r50: the Torch Hub transform (side 256, crop 256, 32 frames x rate 2 at 30 fps, alpha 4)', () => {
    const m = manifestFor('slowfast_r50', synthetic, false);
    expect({ frames: m.frames, samplingRate: m.samplingRate, alpha: m.alpha, fps: m.fps, shortSide: m.shortSide, crop: m.crop }).toEqual({
      frames: 32,
      samplingRate: 2,
      alpha: 4,
      fps: 30,
      shortSide: 256,
      crop: 256,
    });
    expect(m.inputs).toEqual([
      { name: 'slow', shape: ['N', 3, 8, 256, 256], frames: 8 },
      { name: 'fast', shape: ['N', 3, 32, 256, 256], frames: 32 },
    ]);
    expect(windowSeconds(m)).toBeCloseTo(64 / 30, 12);
    expect(m.reference).toContain('https://pytorch.org/hub/facebookresearch_pytorchvideo_slowfast/');
  });

  it('i3d_r50: 8 frames x rate 8 at 30 fps, side 256, crop 224, single pathway', () => {
    const m = manifestFor('i3d_r50', synthetic, false);
    expect({ frames: m.frames, samplingRate: m.samplingRate, alpha: m.alpha, fps: m.fps, shortSide: m.shortSide, crop: m.crop }).toEqual({
      frames: 8,
      samplingRate: 8,
      alpha: null,
      fps: 30,
      shortSide: 256,
      crop: 224,
    });
    expect(m.inputs).toEqual([{ name: 'video', shape: ['N', 3, 8, 224, 224], frames: 8 }]);
    expect(windowSeconds(m)).toBeCloseTo(64 / 30, 12);
  });

  it('describes exactly the inputs of the built graph and of the canonical model', () => {
    for (const arch of CLASSIFIER_ARCHITECTURES) {
      const m = manifestFor(arch, synthetic, false);
      expect(m.inputs.map((i) => [i.name, [1, ...i.shape.slice(1)]])).toEqual(Object.entries(golden[arch].inputs));
      expect(m.inputs.map((i) => ({ name: i.name, frames: i.shape[2], size: i.shape[3] }))).toEqual(INPUTS[arch]);
    }
  });

  it('keeps the source and trained flag it is given', () => {
    const source = { kind: 'checkpoint' as const, url: 'https://example.test/I3D_8x8_R50.pyth', file: 'I3D_8x8_R50.pyth', sha256: 'a'.repeat(64) };
    const m = manifestFor('i3d_r50', source, true);
    expect(m.source).toEqual(source);
    expect(m.trained).toBe(true);
    expect(() => manifestFor('i3d_r50', { ...source, sha256: 'not-a-hash' }, true)).toThrow();
  });
});

describe('parseArchitecture', () => {
  it('accepts the known architectures', () => {
    for (const arch of ARCHITECTURES) expect(parseArchitecture(arch)).toBe(arch);
  });

  it('refuses an unknown one with MODEL_UNKNOWN_ARCH, listing the known ones', () => {
    let err: unknown;
    try {
      parseArchitecture('resnet50');
    } catch (e) {
      err = e;
    }
    expect(isVidxError(err, 'MODEL_UNKNOWN_ARCH')).toBe(true);
    expect((err as Error).message).toContain('known: slowfast_r50, i3d_r50, i3d_inception_v1, mars_resnext101, tps_swin_tiny');
  });
});
