/**
 * The event vidx publishes when a video revision is done: `indexed` or `failed` (issue 11). One
 * domain shape for every sink (SNS, EventBridge, a webhook); no AWS here. The event is a pure
 * function of the stored revision, so a repeated delivery (at least once) carries the same id and,
 * for a webhook, the same body.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { summarize } from '../timeline/summary.ts';
import type { Segment } from '../result.ts';
import { GapSchema, isIndexed, objectEtagOf, type VideoRecord } from '../records.ts';

export const VIDEO_EVENT_SCHEMA = 'vidx.video-event/v1' as const;
export const VIDEO_EVENT_TYPES = { indexed: 'vidx.video.indexed', failed: 'vidx.video.failed' } as const;
/** EventBridge's `source` and `detail-type` of vidx events (match on them in rules). */
export const EVENT_SOURCE = 'vidx';
export const EVENT_DETAIL_TYPES = { indexed: 'Video Indexed', failed: 'Video Failed' } as const;
/** How many labels an event lists (the summary's best, by covered time x score). */
export const TOP_LABELS = 5;

export const VideoEventSchema = z.object({
  schema: z.literal(VIDEO_EVENT_SCHEMA),
  /** Stable per (video, revision, status): duplicates of one delivery share it. */
  id: z.string().regex(/^[0-9a-f]{32}$/),
  type: z.enum([VIDEO_EVENT_TYPES.indexed, VIDEO_EVENT_TYPES.failed]),
  /** When the revision reached its status (the record's time, not the time of sending). */
  time: z.string(),
  status: z.enum(['indexed', 'failed']),
  video: z.object({
    videoId: z.string(),
    bucket: z.string(),
    key: z.string(),
    /** The S3 object's etag. */
    etag: z.string(),
    /** The revision that finished (the etag, plus the model for a re-index). */
    revision: z.string(),
    duration: z.number().nonnegative().optional(),
  }),
  model: z.object({
    architecture: z.string(),
    /** sha256 of the model's manifest (absent for records made before it was recorded). */
    manifestSha256: z.string().optional(),
    trained: z.boolean(),
  }),
  counts: z.object({ clips: z.number().int().nonnegative(), segments: z.number().int().nonnegative(), labels: z.number().int().nonnegative() }),
  topLabels: z.array(z.object({ label: z.string(), seconds: z.number().nonnegative(), score: z.number().min(0).max(1) })),
  /** For a person: why the video failed. */
  reason: z.string().optional(),
  errorCode: z.string().optional(),
  /** Indexed with gaps: the time ranges whose clips failed for good (the rest is indexed). */
  gaps: z.array(GapSchema).optional(),
});
export type VideoEvent = z.infer<typeof VideoEventSchema>;
export type FinalStatus = VideoEvent['status'];

export function videoEventId(videoId: string, revision: string, status: FinalStatus): string {
  return createHash('sha256').update(`vidx.video-event\n${videoId}\n${revision}\n${status}`).digest('hex').slice(0, 32);
}

/** The event status of a record status: indexed (with or without gaps) or failed; undefined while unfinished. */
export function eventStatusOf(status: string): FinalStatus | undefined {
  if (isIndexed(status)) return 'indexed';
  return status === 'failed' ? 'failed' : undefined;
}

export function isFinal(status: string): boolean {
  return eventStatusOf(status) !== undefined;
}

/** The event of a finished revision. `segments` = its timeline (ignored for a failure). */
export function buildVideoEvent(video: VideoRecord, segments: readonly Segment[]): VideoEvent {
  const status = eventStatusOf(video.status);
  if (!status) throw new Error(`video ${video.videoId} is ${video.status}, not finished: no event`);
  const summary = status === 'indexed' ? summarize(segments, video.duration ?? Number.POSITIVE_INFINITY) : [];
  const event: VideoEvent = {
    schema: VIDEO_EVENT_SCHEMA,
    id: videoEventId(video.videoId, video.etag, status),
    type: VIDEO_EVENT_TYPES[status],
    time: (status === 'indexed' ? video.indexedAt : undefined) ?? video.updatedAt,
    status,
    video: {
      videoId: video.videoId,
      bucket: video.bucket,
      key: video.key,
      etag: objectEtagOf(video.etag),
      revision: video.etag,
      ...(video.duration !== undefined ? { duration: video.duration } : {}),
    },
    // Indexed: the model that made the timeline; failed: the one the revision was planned for.
    model: status === 'indexed' && video.indexedWith
      ? video.indexedWith
      : { architecture: video.model, ...(video.modelSha256 !== undefined ? { manifestSha256: video.modelSha256 } : {}), trained: video.trained },
    counts: { clips: video.clipsTotal, segments: status === 'indexed' ? segments.length : 0, labels: summary.length },
    topLabels: summary.slice(0, TOP_LABELS).map((s) => ({ label: s.label, seconds: round(s.seconds, 3), score: round(s.score, 6) })),
    ...(status === 'failed' && video.reason !== undefined ? { reason: video.reason } : {}),
    ...(status === 'failed' && video.errorCode !== undefined ? { errorCode: video.errorCode } : {}),
    ...(status === 'indexed' && video.gaps?.length ? { gaps: video.gaps } : {}),
  };
  return VideoEventSchema.parse(event);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
