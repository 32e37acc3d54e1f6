/** Hand-made, ManifestSchema-valid manifests for video tests (no ONNX needed). */
import { ManifestSchema, type Manifest } from '../../core/model/manifest.ts';

export function slowfastManifest(o: { T?: number; r?: number; alpha?: number; F?: number; S?: number; C?: number; mean?: number; std?: number } = {}): Manifest {
  const T = o.T ?? 8;
  const alpha = o.alpha ?? 4;
  const C = o.C ?? 32;
  const mean = o.mean ?? 0.45;
  const std = o.std ?? 0.225;
  return ManifestSchema.parse({
    schema: 'vidx.manifest/v1',
    architecture: 'slowfast_r50',
    onnx: 'model.onnx',
    inputs: [
      { name: 'slow', shape: ['N', 3, Math.floor(T / alpha), C, C], frames: Math.floor(T / alpha) },
      { name: 'fast', shape: ['N', 3, T, C, C], frames: T },
    ],
    output: { name: 'logits', classes: 2 },
    frames: T,
    samplingRate: o.r ?? 2,
    alpha,
    fps: o.F ?? 30,
    shortSide: o.S ?? C,
    crop: C,
    mean: [mean, mean, mean],
    std: [std, std, std],
    labels: ['a', 'b'],
    source: { kind: 'synthetic', rule: 'test' },
    trained: false,
    reference: 'test manifest',
  });
}

export function i3dManifest(o: { T?: number; r?: number; F?: number; S?: number; C?: number; mean?: [number, number, number]; std?: [number, number, number] } = {}): Manifest {
  const T = o.T ?? 8;
  const C = o.C ?? 32;
  return ManifestSchema.parse({
    schema: 'vidx.manifest/v1',
    architecture: 'i3d_r50',
    onnx: 'model.onnx',
    inputs: [{ name: 'video', shape: ['N', 3, T, C, C], frames: T }],
    output: { name: 'logits', classes: 2 },
    frames: T,
    samplingRate: o.r ?? 2,
    alpha: null,
    fps: o.F ?? 30,
    shortSide: o.S ?? C,
    crop: C,
    mean: o.mean ?? [0.45, 0.45, 0.45],
    std: o.std ?? [0.225, 0.225, 0.225],
    labels: ['a', 'b'],
    source: { kind: 'synthetic', rule: 'test' },
    trained: false,
    reference: 'test manifest',
  });
}
