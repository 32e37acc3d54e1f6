/**
 * The worker's view of the model: plan a video's windows, score the windows a clip owns. The
 * real implementation (gpu-worker/model-scorer.ts) drives core/analyze + the ONNX engine; the interface keeps
 * the queue/index logic independent of how windows are decoded and scored.
 */
import type { KeyframePlan } from '../detection/keyframes.ts';
import type { KeyframeDetections } from '../detection/schema.ts';
import type { WindowScore } from '../result.ts';

/** A planned model window: index in the video and [start, end) seconds. */
export interface PlannedWindow {
  index: number;
  start: number;
  end: number;
}

export interface VideoFactsForScoring {
  duration: number;
  fps: number;
  width: number;
  height: number;
  rotation: number;
}

export interface ScoreOutput {
  windows: WindowScore[];
  /** The people and their actions on each keyframe asked for (detection deployments only). */
  keyframes?: KeyframeDetections[];
  /** Time spent decoding + packing frames, and running the model (ms). */
  decodeMs: number;
  inferenceMs: number;
}

export interface ClipScorer {
  /** "cuda" or "cpu". */
  readonly device: string;
  /** Architecture of the loaded model (must equal ClipJob.model). */
  readonly architecture: string;
  readonly trained: boolean;
  /** sha256 of the loaded model's manifest: recorded as the model that made the timeline. */
  readonly manifestSha256?: string | undefined;
  readonly topK: number;
  /** Every window of a video of this duration (core/video planWindows). */
  windowsFor(duration: number): PlannedWindow[];
  /** Every AVA keyframe of a video of this duration, where the worker detects people (core/detection planKeyframes). */
  keyframesFor?(duration: number): KeyframePlan[];
  /**
   * Scores the given windows of `source` (a presigned URL). Called concurrently for the clips of
   * one receive batch; an implementation may batch their windows together on the model. Throws a
   * VidxError for a clip that cannot be decoded (permanent), anything else for transient faults.
   * `onProgress` is told the units (windows + keyframes) scored so far, as they finish.
   */
  score(source: string, video: VideoFactsForScoring, windows: readonly PlannedWindow[], signal: AbortSignal, keyframes?: readonly KeyframePlan[], onProgress?: (done: number) => void): Promise<ScoreOutput>;
  close(): Promise<void>;
}
