/**
 * Per-person action detection (AVA protocol): what one keyframe yields, and the per-person
 * segments built from a video's keyframes. One definition, used by `analyze --detect`, the worker,
 * the index and the API.
 *
 * Boxes are fractions of the displayed frame (after rotation): [x1, y1, x2, y2] with
 * 0 <= x1 <= x2 <= 1 and 0 <= y1 <= y2 <= 1, so they survive any rescale of the video (the action
 * model's short side 256, the detector's 800, a player's element size).
 */
import { z } from 'zod';
import { LabelScoreSchema } from '../result.ts';

const unit = z.number().min(0).max(1);
export const BoxSchema = z.tuple([unit, unit, unit, unit]).refine(([x1, y1, x2, y2]) => x1 <= x2 && y1 <= y2, 'box must be [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2');
export type Box = z.infer<typeof BoxSchema>;

/** One person found on a keyframe: the detector's box and score, and the action model's labels. */
export const PersonDetectionSchema = z.object({
  box: BoxSchema,
  /** The person detector's score. */
  score: unit,
  /** Action probabilities (independent sigmoids: several can be high at once), best first. */
  actions: z.array(LabelScoreSchema),
});
export type PersonDetection = z.infer<typeof PersonDetectionSchema>;

/**
 * A person the detector scored below the person threshold but at or above the tracker's low
 * threshold (often someone partly hidden): no actions and no segments of their own; the tracker
 * matches these against the tracks the confident people left unmatched, so an identity survives
 * a partial occlusion (ByteTrack's second association).
 */
export const FaintPersonSchema = z.object({ box: BoxSchema, score: unit });
export type FaintPerson = z.infer<typeof FaintPersonSchema>;

/** A keyframe and the people on it. `index` is the keyframe's position in the video's keyframe list. */
export const KeyframeDetectionsSchema = z.object({
  index: z.number().int().nonnegative(),
  /** The keyframe's time (s): the centre of the action clip and of the span it stands for. */
  t: z.number().nonnegative(),
  people: z.array(PersonDetectionSchema),
  /** Low-score people for the tracker, best first; absent when there are none (and in records written before). */
  faint: z.array(FaintPersonSchema).optional(),
});
export type KeyframeDetections = z.infer<typeof KeyframeDetectionsSchema>;

/** Clip-level (a label of the classifier's windows) or per-person (AVA detection) segment. Items written before kinds existed are clip-level. */
export const SEGMENT_KINDS = ['clip', 'person'] as const;
export const SegmentKindSchema = z.enum(SEGMENT_KINDS);
export type SegmentKind = z.infer<typeof SegmentKindSchema>;

/** A box of a person segment at one keyframe. */
export const TimedBoxSchema = z.object({ t: z.number().nonnegative(), box: BoxSchema });
export type TimedBox = z.infer<typeof TimedBoxSchema>;

/**
 * A run of keyframes in which one tracked person does one action: [start, end) seconds, the max and
 * mean probability over the passing keyframes, and the person's box on each of them.
 */
export const PersonSegmentSchema = z.object({
  kind: z.literal('person'),
  /** Stable per video: the same person keeps the same id across the video's keyframes. */
  person: z.number().int().positive(),
  label: z.string(),
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  score: unit,
  mean: unit,
  keyframes: z.number().int().positive(),
  boxes: z.array(TimedBoxSchema).min(1),
});
export type PersonSegment = z.infer<typeof PersonSegmentSchema>;
