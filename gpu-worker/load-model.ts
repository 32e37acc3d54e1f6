/** Loads the model (CUDA where it works, else CPU) and wraps it as the worker's ClipScorer. */
import { InferenceEngine, type DeviceRequest, type EntryRequest } from '../core/model/engine.ts';
import { softmax, topK } from '../core/model/scores.ts';
import { DEFAULT_TOP_K } from '../core/timeline/defaults.ts';
import { VidxError } from '../core/errors.ts';
import { createModelScorer } from './model-scorer.ts';
import { ActionDetector, PersonDetector } from '../core/model/detectors.ts';
import type { Analyses } from '../core/detection/analyses.ts';
import { DEFAULT_KEYFRAME_INTERVAL } from '../core/detection/keyframes.ts';
import { ENV } from '../core/names.ts';
import { manifestSha256 } from '../core/pipeline/model-ref.ts';
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
  /** Classification, detection or both (default classification only). */
  analyses?: Analyses;
  /** Detection: the two models' manifests, the keyframe interval (s) and the person score threshold. */
  peopleModel?: string;
  actionsModel?: string;
  keyframeInterval?: number;
  personThreshold?: number;
  /** Detection: people per keyframe, best first (default DEFAULT_MAX_PEOPLE). */
  maxPeople?: number;
}

async function loadDetection(o: LoadScorerOptions): Promise<{ people: PersonDetector; actions: ActionDetector } | undefined> {
  if (!o.analyses?.detect) return undefined;
  if (!o.peopleModel || !o.actionsModel) {
    throw new VidxError('WORKER_CONFIG', `detection needs ${ENV.peopleModel} and ${ENV.actionsModel} (model manifests)`, { hint: 'synthesize or pull fasterrcnn_resnet50_fpn_v2 and slowfast_r50_detection' });
  }
  // The same entry as the classifier: 'auto' hands both detection models bytes where their bundles have a uint8 entry.
  const options = { device: o.device ?? 'auto', threads: o.threads, log: o.log, entry: o.entry ?? 'auto' };
  const people = await PersonDetector.load(o.peopleModel, options);
  try {
    return { people, actions: await ActionDetector.load(o.actionsModel, options) };
  } catch (e) {
    await people.close();
    throw e;
  }
}

export async function loadModelScorer(manifestPath: string, o: LoadScorerOptions = {}): Promise<ClipScorer> {
  const engine = await InferenceEngine.load(manifestPath, { device: o.device ?? 'auto', threads: o.threads, log: o.log, entry: o.entry ?? 'auto' });
  let detection;
  try {
    detection = await loadDetection(o);
  } catch (e) {
    await engine.close();
    throw e;
  }
  const batch = o.batch ?? 8;
  return createModelScorer({
    manifestSha256: manifestSha256(manifestPath),
    manifest: engine.manifest,
    engine,
    scores: { softmax, topK },
    device: engine.device,
    batch,
    maxBatch: Math.max(batch, o.maxBatch ?? 32),
    topK: DEFAULT_TOP_K,
    hwaccel: engine.device === 'cuda',
    fastDecode: o.fastDecode ?? false,
    classify: o.analyses?.classify ?? true,
    ...(detection ? { detection: { ...detection, interval: o.keyframeInterval ?? DEFAULT_KEYFRAME_INTERVAL, ...(o.personThreshold === undefined ? {} : { scoreThreshold: o.personThreshold }), ...(o.maxPeople === undefined ? {} : { maxPeople: o.maxPeople }) } } : {}),
    close: async () => {
      await engine.close();
      await detection?.people.close();
      await detection?.actions.close();
    },
  });
}
