/**
 * Which analyses a deployment (or `vidx local`) runs: clip classification (Kinetics windows),
 * per-person detection (AVA keyframes), or both. One parser for VIDX_ANALYSES, --analyses and the
 * CDK config.
 */
import { VidxError } from '../errors.ts';
import { DEFAULT_KEYFRAME_INTERVAL } from './keyframes.ts';

export const ANALYSES = ['classify', 'detect'] as const;
export type Analysis = (typeof ANALYSES)[number];
export interface Analyses {
  classify: boolean;
  detect: boolean;
}

export const ANALYSES_BAD = 'ANALYSES_BAD';

/** The models `detect` runs unless told otherwise: the person detector and the AVA action model. */
export const DETECTION_MODELS = { people: 'fasterrcnn_resnet50_fpn_v2', actions: 'slowfast_r50_detection' } as const;
export const DEFAULT_ANALYSES: Analyses = { classify: true, detect: false };

/** "classify", "detect" or "classify,detect" (any order, spaces allowed); unset = classify only. */
export function parseAnalyses(value: string | undefined): Analyses {
  if (value === undefined || value.trim() === '') return DEFAULT_ANALYSES;
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = parts.filter((p) => !(ANALYSES as readonly string[]).includes(p));
  if (bad.length > 0 || parts.length === 0) {
    throw new VidxError(ANALYSES_BAD, `analyses must be classify, detect or classify,detect, got "${value}"`, { hint: 'set VIDX_ANALYSES (or --analyses) to classify, detect or classify,detect' });
  }
  return { classify: parts.includes('classify'), detect: parts.includes('detect') };
}

/** The keyframe interval (s) from VIDX_KEYFRAME_INTERVAL, or the AVA default of 1 s. */
export function keyframeIntervalFrom(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_KEYFRAME_INTERVAL;
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new VidxError(ANALYSES_BAD, `VIDX_KEYFRAME_INTERVAL must be a positive number of seconds, got "${value}"`, { hint: 'e.g. 1 (AVA)' });
  return n;
}
