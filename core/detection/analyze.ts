/**
 * `analyze --detect` as a library call: every keyframe of a video through the runner, people
 * linked into tracks over the whole video, per-person segments built; the result is one versioned
 * JSON document (DetectionResultSchema) and a readable per-person timeline.
 */
import { z } from 'zod';
import type { VideoInfo } from '../video/probe.ts';
import { defaultPersonTimelineOptions } from './defaults.ts';
import { buildPersonSegments } from './person-segments.ts';
import { detectKeyframes, type ActionModel, type DetectionOptions, type DetectionTimings, type PeopleModel } from './runner.ts';
import { DEFAULT_KEYFRAME_INTERVAL, planKeyframes } from './keyframes.ts';
import { KeyframeDetectionsSchema, PersonSegmentSchema } from './schema.ts';
import { linkTracks } from './tracks.ts';

export const DETECTION_RESULT_VERSION = 'vidx.detections/v1' as const;

export const DetectionResultSchema = z.object({
  schema: z.literal(DETECTION_RESULT_VERSION),
  video: z.object({ source: z.string(), duration: z.number(), width: z.number(), height: z.number(), rotation: z.number() }),
  models: z.object({
    people: z.object({ architecture: z.string(), trained: z.boolean() }),
    actions: z.object({ architecture: z.string(), trained: z.boolean() }),
  }),
  options: z.object({ keyframeInterval: z.number(), scoreThreshold: z.number(), actionThreshold: z.number(), gap: z.number(), maxPeople: z.number().optional() }),
  /** Every keyframe with every person's box (fractions of the displayed frame) and kept actions. */
  keyframes: z.array(KeyframeDetectionsSchema),
  /** Per person and action, runs of keyframes at or above actionThreshold. */
  segments: z.array(PersonSegmentSchema),
});
export type DetectionResult = z.infer<typeof DetectionResultSchema>;

export interface AnalyzeDetectionOptions extends DetectionOptions {
  keyframeInterval?: number;
  actionThreshold?: number;
  gap?: number;
}

export async function analyzeDetections(
  source: string,
  info: VideoInfo,
  models: { people: PeopleModel; actions: ActionModel },
  o: AnalyzeDetectionOptions = {},
): Promise<{ result: DetectionResult; timings: DetectionTimings }> {
  const interval = o.keyframeInterval ?? DEFAULT_KEYFRAME_INTERVAL;
  const defaults = defaultPersonTimelineOptions(models.actions.manifest.trained, interval);
  const threshold = o.actionThreshold ?? defaults.threshold;
  const gap = o.gap ?? defaults.gap;
  const plan = planKeyframes(info.duration, interval);
  const { keyframes, timings } = await detectKeyframes(source, info, plan, models, o);
  const segments = buildPersonSegments(keyframes, linkTracks(keyframes), { threshold, gap, interval, duration: info.duration });
  const result: DetectionResult = {
    schema: DETECTION_RESULT_VERSION,
    video: { source, duration: info.duration, width: info.width, height: info.height, rotation: info.rotation },
    models: {
      people: { architecture: models.people.manifest.architecture, trained: models.people.manifest.trained },
      actions: { architecture: models.actions.manifest.architecture, trained: models.actions.manifest.trained },
    },
    options: {
      keyframeInterval: interval,
      scoreThreshold: o.scoreThreshold ?? models.people.manifest.scoreThreshold,
      actionThreshold: threshold,
      gap,
      ...(o.maxPeople === undefined ? {} : { maxPeople: o.maxPeople }),
    },
    keyframes,
    segments,
  };
  return { result, timings };
}

/**
 * The per-person timeline: one block per person (by id), a header naming the person, how many
 * segments and when they are seen, then their segments in time order (`  12.0-19.0 s  smoke  0.81`);
 * a plain line when nobody was found.
 */
export function formatPersonTimeline(r: DetectionResult): string {
  const lines: string[] = [];
  if (!r.keyframes.some((k) => k.people.length > 0)) lines.push(`no person found on ${r.keyframes.length} keyframe${r.keyframes.length === 1 ? '' : 's'}`);
  else if (r.segments.length === 0) lines.push(`people found, but no action at or above ${r.options.actionThreshold}`);
  const byPerson = new Map<number, DetectionResult['segments']>();
  for (const s of r.segments) byPerson.set(s.person, [...(byPerson.get(s.person) ?? []), s]);
  for (const person of [...byPerson.keys()].sort((a, b) => a - b)) {
    const segments = [...byPerson.get(person)!].sort((a, b) => a.start - b.start || b.score - a.score || a.label.localeCompare(b.label));
    const from = Math.min(...segments.map((s) => s.start));
    const to = Math.max(...segments.map((s) => s.end));
    if (lines.length > 0) lines.push('');
    lines.push(`person ${person}  (${segments.length} segment${segments.length === 1 ? '' : 's'}, ${from.toFixed(1)}-${to.toFixed(1)} s)`);
    const width = Math.max(...segments.map((s) => s.label.length));
    for (const s of segments) lines.push(`  ${s.start.toFixed(1)}-${s.end.toFixed(1)} s  ${s.label.padEnd(width)}  ${s.score.toFixed(2)}`);
  }
  return `${lines.join('\n')}\n`;
}
