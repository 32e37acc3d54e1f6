import { readFileSync } from 'node:fs';
import type { Architecture } from '../../core/model/manifest.ts';

export interface GoldenModel {
  keys: Array<[string, number[]]>;
  inputs: Record<string, number[]>;
  logits: number[];
}

/** The PyTorchVideo models of ../shared/reference/pytorchvideo_golden.json. */
export type PyTorchVideoArchitecture = Extract<Architecture, 'slowfast_r50' | 'i3d_r50'>;
export const PYTORCHVIDEO_ARCHITECTURES: readonly PyTorchVideoArchitecture[] = ['slowfast_r50', 'i3d_r50'];

/** ../shared/reference/pytorchvideo_golden.json: the canonical PyTorchVideo models' layout and logits. */
export function readGolden(): Record<PyTorchVideoArchitecture, GoldenModel> {
  const url = new URL('../../../shared/reference/pytorchvideo_golden.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Record<PyTorchVideoArchitecture, GoldenModel>;
}

/** The other seed papers' models of ../shared/reference/seed_models_golden.json. */
export type SeedArchitecture = Extract<Architecture, 'i3d_inception_v1' | 'mars_resnext101' | 'tps_swin_tiny'>;

export interface SeedGoldenModel {
  keys: Array<[string, number[]]>;
  inputs: Record<string, number[]>;
  /** The canonical model's output shape: [1, 400], or [1, 400, T] for I3D's per-time logits. */
  outputShape: number[];
  /** [400], or [400][T] for I3D. */
  logits: number[] | number[][];
}

/** ../shared/reference/seed_models_golden.json: layout and logits of I3D Inception-V1, MARS and TPS. */
export function readSeedGolden(): Record<SeedArchitecture, SeedGoldenModel> {
  const url = new URL('../../../shared/reference/seed_models_golden.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Record<SeedArchitecture, SeedGoldenModel>;
}

/** The golden logits per clip: I3D's per-time logits averaged over time (the clip score), else as they are. */
export function clipLogits(golden: SeedGoldenModel): number[] {
  return golden.logits.map((row) => (Array.isArray(row) ? row.reduce((a, b) => a + b, 0) / row.length : row));
}
