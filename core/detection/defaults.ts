/**
 * Default person-timeline options, and why.
 *
 * - threshold 0.5 (trained action model): the AVA head is 80 independent sigmoids, trained with
 *   binary cross-entropy, so 0.5 is each action's own decision point ("more likely than not"),
 *   whatever the other actions score.
 * - gap 1 keyframe: one keyframe's dropout (a missed detection, a turn of the head) does not split
 *   an action; two missing keyframes (2 s at the default interval) end it.
 * UNTRAINED (synthetic weights): the sigmoids hover around 0.5 at random, so a threshold would show
 *   noise as either everything or nothing; as for clip-level timelines, threshold 0 lets every
 *   stored label through (the runner stores only each person's top few then), and every output
 *   says the labels mean nothing.
 */
import { DEFAULT_KEYFRAME_INTERVAL } from './keyframes.ts';

/**
 * The tracker's low threshold: people the detector scores from here up to the person threshold
 * are kept as faint people (no actions) for the tracker's second association. ByteTrack's 0.1;
 * on the synthetic set any floor from 0.1 to 0.5 gave the same identities (docs/decisions.md).
 */
export const DEFAULT_FAINT_THRESHOLD = 0.1;

export const DEFAULT_ACTION_THRESHOLD = 0.5;
export const UNTRAINED_ACTION_THRESHOLD = 0;
export const DEFAULT_KEYFRAME_GAP = 1;

export interface PersonTimelineOptions {
  threshold: number;
  gap: number;
  /** Keyframe interval (s) the keyframes were planned with. */
  interval: number;
}

export function defaultPersonTimelineOptions(trained: boolean, interval: number = DEFAULT_KEYFRAME_INTERVAL): PersonTimelineOptions {
  return { threshold: trained ? DEFAULT_ACTION_THRESHOLD : UNTRAINED_ACTION_THRESHOLD, gap: DEFAULT_KEYFRAME_GAP, interval };
}
