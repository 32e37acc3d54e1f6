import { z } from 'zod';
import { ArchitectureSchema } from './model/manifest.ts';

export const RESULT_VERSION = 'vidx.result/v1' as const;

export const LabelScoreSchema = z.object({
  label: z.string(),
  /** Class index in the model's label list. */
  index: z.number().int().nonnegative(),
  /** Softmax probability. */
  p: z.number().min(0).max(1),
});
export type LabelScore = z.infer<typeof LabelScoreSchema>;

/** One model window: [start, end) seconds and its top-k labels, best first. */
export const WindowScoreSchema = z.object({
  index: z.number().int().nonnegative(),
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  top: z.array(LabelScoreSchema),
});
export type WindowScore = z.infer<typeof WindowScoreSchema>;

/** A maximal run of windows where one label scores >= threshold (gaps of up to `gap` windows allowed). */
export const SegmentSchema = z.object({
  label: z.string(),
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  /** Max probability over the run's windows. */
  score: z.number().min(0).max(1),
  mean: z.number().min(0).max(1),
  windows: z.number().int().positive(),
});
export type Segment = z.infer<typeof SegmentSchema>;

export const SummaryEntrySchema = z.object({
  label: z.string(),
  /** Seconds covered by the label's segments. */
  seconds: z.number().nonnegative(),
  score: z.number().min(0).max(1),
  /** Ranking key: covered seconds x score. */
  weight: z.number().nonnegative(),
});
export type SummaryEntry = z.infer<typeof SummaryEntrySchema>;

export const VideoFactsSchema = z.object({
  source: z.string(),
  duration: z.number().nonnegative(),
  fps: z.number().nonnegative(),
  avgFps: z.number().nonnegative(),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  rotation: z.number().int(),
  codec: z.string(),
});
export type VideoFacts = z.infer<typeof VideoFactsSchema>;

export const TimelineOptionsSchema = z.object({
  stride: z.number().positive(),
  threshold: z.number().min(0).max(1),
  gap: z.number().int().nonnegative(),
  topK: z.number().int().positive(),
});
export type TimelineOptions = z.infer<typeof TimelineOptionsSchema>;

/** What `vidx analyze --json` prints and what the index stores per video: one versioned schema. */
export const AnalysisResultSchema = z.object({
  schema: z.literal(RESULT_VERSION),
  video: VideoFactsSchema,
  model: z.object({ architecture: ArchitectureSchema, trained: z.boolean(), source: z.string() }),
  options: TimelineOptionsSchema,
  windows: z.array(WindowScoreSchema),
  segments: z.array(SegmentSchema),
  summary: z.array(SummaryEntrySchema),
});
export type AnalysisResult = z.infer<typeof AnalysisResultSchema>;
