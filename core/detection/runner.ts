/**
 * The AVA protocol over a set of keyframes: decode (frames.ts), find people on each keyframe
 * (person detector, selectPeople), then run the action model once per keyframe with all its
 * people's boxes (none when nobody is there), giving KeyframeDetections[] for the index, the
 * worker and `analyze --detect`.
 *
 * Each model is fed for its entry (`model.entry`): uint8, the decoded bytes as they are (the
 * graphs normalize, pad and pick frames); float, packed and normalized here (frames.ts).
 *
 * What is kept per person (records stay small: DynamoDB items are at most 400 KB, and a clip
 * record holds every keyframe it owns):
 * - trained action model: the labels with probability >= STORED_ACTION_FLOOR, best first, at
 *   most MAX_STORED_LABELS (a floor below any sensible threshold, so thresholds can change at
 *   assembly without re-running the models);
 * - untrained (synthetic) model: its top UNTRAINED_STORED_LABELS labels (scores are noise).
 * Probabilities are rounded to 3 decimals and boxes to 4 (a tenth of a pixel at 1000 px).
 */
import type { LabelScore } from '../result.ts';
import type { VideoInfo } from '../video/probe.ts';
import type { ActionDetectorManifest, PersonDetectorManifest } from '../model/manifest.ts';
import { toPixels } from './boxes.ts';
import type { Entry, InputData } from '../model/engine.ts';
import { actionInput, detectorInput, readDetectionFrames } from './frames.ts';
import type { KeyframePlan } from './keyframes.ts';
import { DEFAULT_MAX_PEOPLE, selectPeople, type DetectorOutput } from './people.ts';
import type { Box, KeyframeDetections, PersonDetection } from './schema.ts';

export const STORED_ACTION_FLOOR = 0.1;
export const MAX_STORED_LABELS = 8;
export const UNTRAINED_STORED_LABELS = 3;

/** What the runner needs of core/model/detectors.ts PersonDetector: its entry says what it takes. */
export interface PeopleModel {
  readonly manifest: PersonDetectorManifest;
  /** Absent: float. */
  readonly entry?: Entry;
  detect(image: InputData, height: number, width: number, options?: { scoreThreshold?: number }): Promise<DetectorOutput>;
}

/** What the runner needs of core/model/detectors.ts ActionDetector: its entry says what it takes. */
export interface ActionModel {
  readonly manifest: ActionDetectorManifest;
  /** Absent: float. */
  readonly entry?: Entry;
  predict(clip: Record<string, InputData>, height: number, width: number, boxes: readonly (readonly [number, number, number, number])[]): Promise<Float32Array[]>;
}

export interface DetectionOptions {
  /** Person score threshold (default: the detector manifest's, the AVA protocol's 0.8). */
  scoreThreshold?: number;
  /** People per keyframe, best first (default DEFAULT_MAX_PEOPLE). */
  maxPeople?: number;
  signal?: AbortSignal;
  threads?: number;
  /** Keyframes done so far of `total`: 0 once every frame is decoded, then after each keyframe. */
  onProgress?: (done: number, total: number) => void;
}

export interface DetectionTimings {
  /** Decoding, and packing where the models take floats. */
  decodeMs: number;
  /** Around each model call (checks, tensors and session.run). */
  detectorMs: number;
  actionMs: number;
  /** Bytes handed to each model, all keyframes together (its inputs' data). */
  detectorBytes: number;
  actionBytes: number;
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

function roundBox(b: Box): Box {
  return [round(b[0], 4), round(b[1], 4), round(b[2], 4), round(b[3], 4)];
}

/** One person's action probabilities -> the labels kept (see the module comment). */
export function keptActions(probs: Float32Array, labels: readonly string[], trained: boolean): LabelScore[] {
  const all = Array.from(probs, (p, index) => ({ label: labels[index] ?? `action ${index}`, index, p }));
  all.sort((a, b) => b.p - a.p || a.index - b.index);
  const kept = trained ? all.filter((a) => a.p >= STORED_ACTION_FLOOR).slice(0, MAX_STORED_LABELS) : all.slice(0, UNTRAINED_STORED_LABELS);
  return kept.map((a) => ({ ...a, p: round(a.p, 3) }));
}

export async function detectKeyframes(
  source: string,
  info: VideoInfo,
  keyframes: readonly KeyframePlan[],
  models: { people: PeopleModel; actions: ActionModel },
  o: DetectionOptions = {},
): Promise<{ keyframes: KeyframeDetections[]; timings: DetectionTimings }> {
  const pm = models.people.manifest;
  const am = models.actions.manifest;
  const t0 = performance.now();
  const frames = await readDetectionFrames(source, info, keyframes, pm, am, o);
  const timings: DetectionTimings = { decodeMs: performance.now() - t0, detectorMs: 0, actionMs: 0, detectorBytes: 0, actionBytes: 0 };
  const minScore = o.scoreThreshold ?? pm.scoreThreshold;
  const out: KeyframeDetections[] = [];
  o.onProgress?.(0, keyframes.length);
  for (const [k, plan] of keyframes.entries()) {
    o.signal?.throwIfAborted();
    let t = performance.now();
    const image = detectorInput(frames.images[k]!, frames.detector, pm, models.people.entry ?? 'float');
    timings.decodeMs += performance.now() - t;
    timings.detectorBytes += image.image.byteLength;
    t = performance.now();
    const detected = await models.people.detect(image.image, image.height, image.width, { scoreThreshold: minScore });
    timings.detectorMs += performance.now() - t;
    const found = selectPeople(detected, { personLabel: pm.personLabel, minScore, maxPeople: o.maxPeople ?? DEFAULT_MAX_PEOPLE, scaled: frames.detector.scaled });
    let people: PersonDetection[] = [];
    if (found.length > 0) {
      t = performance.now();
      const clip = actionInput(frames.clips[k]!, frames.action, am, models.actions.entry ?? 'float');
      timings.decodeMs += performance.now() - t;
      timings.actionBytes += Object.values(clip.clip).reduce((sum, d) => sum + d.byteLength, 0);
      t = performance.now();
      const probs = await models.actions.predict(clip.clip, clip.height, clip.width, found.map((p) => toPixels(p.box, frames.action)));
      timings.actionMs += performance.now() - t;
      people = found.map((p, i) => ({ box: roundBox(p.box), score: round(p.score, 3), actions: keptActions(probs[i]!, am.labels, am.trained) }));
    }
    out.push({ index: plan.index, t: plan.t, people });
    o.onProgress?.(out.length, keyframes.length);
  }
  return { keyframes: out, timings };
}
