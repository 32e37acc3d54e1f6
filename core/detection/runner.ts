/**
 * The AVA protocol over a set of keyframes: decode (frames.ts), find people on each keyframe
 * (person detector, one frame a run; selectPeopleAndFaint), then run the action model on the
 * keyframes with people, `actionBatch` clips a run, each clip with all its people's boxes (no run
 * for a keyframe without people), giving KeyframeDetections[] for the index, the worker and
 * `analyze --detect`. Batched or not, the detections are the same
 * (test/detection/detection-batch.test.ts).
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
import { actionInputs, detectorInput, readDetectionFrames } from './frames.ts';
import type { KeyframePlan } from './keyframes.ts';
import { DEFAULT_FAINT_THRESHOLD } from './defaults.ts';
import { DEFAULT_MAX_PEOPLE, selectPeopleAndFaint, type DetectorOutput, type FoundPerson } from './people.ts';
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
  /** Where it runs ('cuda' or 'cpu'): it sets the default clips per run. */
  readonly device?: string;
  predict(clip: Record<string, InputData>, height: number, width: number, boxes: readonly (readonly [number, number, number, number])[]): Promise<Float32Array[]>;
  /** Several clips in one run (ActionDetector.predictClips); absent: one predict per clip. */
  predictClips?(clips: Record<string, InputData>, count: number, height: number, width: number, boxes: readonly (readonly (readonly [number, number, number, number])[])[]): Promise<Float32Array[][]>;
}

/**
 * Keyframes (with people) per action-model run, by device: on CUDA a batch keeps the GPU busy
 * and a clip of 32 frames at 256 x 455 costs about 11 MB as bytes; on CPU a batch of 3 was
 * measured slower than three runs (README "Throughput", bench/detection.bench.ts), so one clip a
 * run.
 */
export const DEFAULT_ACTION_BATCH: Record<'cuda' | 'cpu', number> = { cuda: 8, cpu: 1 };

export function defaultActionBatch(device: string | undefined): number {
  return device === 'cuda' ? DEFAULT_ACTION_BATCH.cuda : DEFAULT_ACTION_BATCH.cpu;
}

export interface DetectionOptions {
  /** Person score threshold (default: the detector manifest's, the AVA protocol's 0.8). */
  scoreThreshold?: number;
  /**
   * The tracker's low threshold (default DEFAULT_FAINT_THRESHOLD): people scored from here up to
   * the person threshold are kept as `faint` (box and score, no action-model run). The detector
   * runs at the lower of the two; its confident people are the same (NMS is greedy by score: a
   * lower-scored box never suppresses a higher one).
   */
  faintThreshold?: number;
  /** People per keyframe, best first (default DEFAULT_MAX_PEOPLE); faint people are capped alike. */
  maxPeople?: number;
  /** ffmpeg passes for the keyframe images and clips (frames.ts; default one). */
  passes?: 'one' | 'two';
  /** Keyframes with people per action-model run (default defaultActionBatch(the model's device)). */
  actionBatch?: number;
  signal?: AbortSignal;
  threads?: number;
  /** Keyframes done so far of `total`: 0 once every frame is decoded, then as each keyframe is finished. */
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
  // Progress in keyframes: one without people is done once detected, one with people once its action run is.
  let done = 0;
  const tick = (n: number) => o.onProgress?.((done += n), keyframes.length);
  tick(0);
  const faintScore = Math.min(minScore, o.faintThreshold ?? DEFAULT_FAINT_THRESHOLD);
  const found: Array<{ people: FoundPerson[]; faint: FoundPerson[] }> = [];
  for (const k of keyframes.keys()) {
    o.signal?.throwIfAborted();
    let t = performance.now();
    const image = detectorInput(frames.images[k]!, frames.detector, pm, models.people.entry ?? 'float');
    timings.decodeMs += performance.now() - t;
    timings.detectorBytes += image.image.byteLength;
    t = performance.now();
    const detected = await models.people.detect(image.image, image.height, image.width, { scoreThreshold: faintScore });
    timings.detectorMs += performance.now() - t;
    found.push(selectPeopleAndFaint(detected, { personLabel: pm.personLabel, minScore, faintScore, maxPeople: o.maxPeople ?? DEFAULT_MAX_PEOPLE, scaled: frames.detector.scaled }));
    if (found[found.length - 1]!.people.length === 0) tick(1);
  }
  // The action model: keyframes with people, `batch` clips a run (a keyframe's people are one run's boxes).
  const probs: Float32Array[][] = keyframes.map(() => []);
  const withPeople = [...keyframes.keys()].filter((k) => found[k]!.people.length > 0);
  const batch = models.actions.predictClips ? Math.max(1, Math.floor(o.actionBatch ?? defaultActionBatch(models.actions.device))) : 1;
  const entry = models.actions.entry ?? 'float';
  for (let start = 0; start < withPeople.length; start += batch) {
    o.signal?.throwIfAborted();
    const group = withPeople.slice(start, start + batch);
    const boxes = group.map((k) => found[k]!.people.map((p) => toPixels(p.box, frames.action)));
    let t = performance.now();
    const clip = actionInputs(group.map((k) => frames.clips[k]!), frames.action, am, entry);
    timings.decodeMs += performance.now() - t;
    timings.actionBytes += Object.values(clip.clip).reduce((sum, d) => sum + d.byteLength, 0);
    t = performance.now();
    const rows = group.length > 1 ? await models.actions.predictClips!(clip.clip, group.length, clip.height, clip.width, boxes) : [await models.actions.predict(clip.clip, clip.height, clip.width, boxes[0]!)];
    timings.actionMs += performance.now() - t;
    group.forEach((k, g) => (probs[k] = rows[g]!));
    tick(group.length);
  }
  const out: KeyframeDetections[] = keyframes.map((plan, k) => {
    const { people: confident, faint } = found[k]!;
    const people: PersonDetection[] = confident.map((p, i) => ({ box: roundBox(p.box), score: round(p.score, 3), actions: keptActions(probs[k]![i]!, am.labels, am.trained) }));
    return { index: plan.index, t: plan.t, people, ...(faint.length > 0 ? { faint: faint.map((p) => ({ box: roundBox(p.box), score: round(p.score, 3) })) } : {}) };
  });
  return { keyframes: out, timings };
}
