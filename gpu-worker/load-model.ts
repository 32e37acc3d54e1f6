/** Loads the model (CUDA where it works, else CPU) and wraps it as the worker's ClipScorer. */
import { InferenceEngine, type DeviceRequest, type EntryRequest } from '../core/model/engine.ts';
import { softmax, topK } from '../core/model/scores.ts';
import { DEFAULT_TOP_K } from '../core/timeline/defaults.ts';
import { VidxError } from '../core/errors.ts';
import { createModelScorer } from './model-scorer.ts';
import type { ClipScorer } from '../core/pipeline/clip-scorer.ts';

export interface LoadScorerOptions {
  device?: DeviceRequest;
  threads?: number;
  /** Windows per packed batch of one clip (default 8) and per coalesced model run (default 32). */
  batch?: number;
  maxBatch?: number;
  /** Skip the H.264 loop filter while decoding (VIDX_FAST_DECODE=1). */
  fastDecode?: boolean;
  /** Model entry (default 'auto': the uint8 entry, frames as bytes, where the bundle has one). */
  entry?: EntryRequest;
  log?: (msg: string) => void;
}

export function deviceFrom(value: string | undefined): DeviceRequest {
  const v = (value ?? 'auto').trim() || 'auto';
  if (v === 'auto' || v === 'cpu' || v === 'cuda') return v;
  throw new VidxError('WORKER_CONFIG', `VIDX_DEVICE must be auto, cpu or cuda, got "${value}"`);
}

export async function loadModelScorer(manifestPath: string, o: LoadScorerOptions = {}): Promise<ClipScorer> {
  const engine = await InferenceEngine.load(manifestPath, { device: o.device ?? 'auto', threads: o.threads, log: o.log, entry: o.entry ?? 'auto' });
  const batch = o.batch ?? 8;
  return createModelScorer({
    manifest: engine.manifest,
    engine,
    scores: { softmax, topK },
    device: engine.device,
    batch,
    maxBatch: Math.max(batch, o.maxBatch ?? 32),
    topK: DEFAULT_TOP_K,
    hwaccel: engine.device === 'cuda',
    fastDecode: o.fastDecode ?? false,
    close: () => engine.close(),
  });
}
