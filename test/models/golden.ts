import { readFileSync } from 'node:fs';
import type { Architecture } from '../../core/model/manifest.ts';

export interface GoldenModel {
  keys: Array<[string, number[]]>;
  inputs: Record<string, number[]>;
  logits: number[];
}

/** ../shared/reference/pytorchvideo_golden.json: the canonical PyTorchVideo models' layout and logits. */
export function readGolden(): Record<Architecture, GoldenModel> {
  const url = new URL('../../../shared/reference/pytorchvideo_golden.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Record<Architecture, GoldenModel>;
}

/** ../shared/reference/seed_models_golden.json: the other seed papers' models (same rules). */
export function readSeedGolden(): Record<string, GoldenModel> {
  const url = new URL('../../../shared/reference/seed_models_golden.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Record<string, GoldenModel>;
}
