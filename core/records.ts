/**
 * What the index holds, as domain schemas: videos (one record per video, its current revision),
 * clip results (per revision) and timeline segments. The segmenter and the worker write them
 * through the index port (core/index/port.ts); the query API reads them. How they are laid out in
 * a store (keys, pages, sizes) is the adapter's business and never appears here.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { THUMBNAIL_PREFIX } from './names.ts';
import { KeyframeDetectionsSchema, SegmentKindSchema, TimedBoxSchema } from './detection/schema.ts';
import { SegmentSchema, WindowScoreSchema } from './result.ts';
import { GapSchema, type Gap } from './gap.ts';

// ---------------------------------------------------------------------------------------------
// Identifiers

/** Stable id of an uploaded object: the same (bucket, key) always gives the same id. 20 hex chars. */
export function videoIdFor(bucket: string, key: string): string {
  return createHash('sha256').update(`${bucket}\n${key}`).digest('hex').slice(0, 20);
}

/**
 * A revision of a video is one etag of its object. Clip results carry the revision in their sort
 * key so a late worker of an old revision can never overwrite a clip of the new one.
 */
export function revisionId(etag: string): string {
  return createHash('sha256').update(etag.replace(/^"|"$/g, '')).digest('hex').slice(0, 12);
}

/**
 * A re-index with another model is a new revision of the same object: its revision token is the
 * object's etag plus `@` and the first 12 hex of the model's manifest sha256. S3 etags never hold
 * `@`, so the object's etag is always recoverable. The record's `etag` field holds the token.
 */
export const REINDEX_SEPARATOR = '@';

export function reindexEtag(objectEtag: string, manifestSha256: string): string {
  return `${objectEtagOf(objectEtag)}${REINDEX_SEPARATOR}${manifestSha256.slice(0, 12)}`;
}

/** The S3 object's etag of a revision token (the token itself for an upload's revision). */
export function objectEtagOf(revision: string): string {
  const at = revision.indexOf(REINDEX_SEPARATOR);
  return at < 0 ? revision : revision.slice(0, at);
}

// ---------------------------------------------------------------------------------------------
// Object keys (S3, not the index: the index's layout is its adapter's, adapters/dynamo-index/)

export function msOf(seconds: number): number {
  return Math.round(seconds * 1000);
}

/**
 * Key of a thumbnail: per video and revision (a new upload never shows an old frame), named by
 * the frame's time in ms (segments of several labels at one window share it).
 */
export function thumbnailKey(videoId: string, etag: string, atSeconds: number): string {
  return `${thumbnailRevisionPrefix(videoId, etag)}${pad(msOf(atSeconds), 10)}.jpg`;
}

/** Prefix of every thumbnail of one revision of a video. */
export function thumbnailRevisionPrefix(videoId: string, etag: string): string {
  return `${thumbnailPrefix(videoId)}${revisionId(etag)}/`;
}

/** Prefix of every thumbnail of a video (all revisions). */
export function thumbnailPrefix(videoId: string): string {
  return `${THUMBNAIL_PREFIX}${videoId}/`;
}

function pad(n: number, width: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`key component must be a non-negative integer, got ${n}`);
  return String(n).padStart(width, '0');
}

// ---------------------------------------------------------------------------------------------
// Record schemas (what is stored, without any storage key)

/**
 * `indexed_with_gaps`: indexed, except for clips that failed for good (the file itself, e.g. a
 * damaged stretch): the rest of the timeline is kept and `gaps` lists the missing time ranges.
 */
export const VIDEO_STATUSES = ['queued', 'processing', 'indexed', 'indexed_with_gaps', 'failed'] as const;
export const VideoStatusSchema = z.enum(VIDEO_STATUSES);
export type VideoStatus = z.infer<typeof VideoStatusSchema>;

/** Statuses of a finished timeline (searchable, final). */
export function isIndexed(status: string): boolean {
  return status === 'indexed' || status === 'indexed_with_gaps';
}

export { GapSchema, type Gap };

/** Which model made something: architecture, manifest sha256, trained or not. */
export const ModelRefSchema = z.object({
  architecture: z.string(),
  manifestSha256: z.string().optional(),
  trained: z.boolean(),
});
export type ModelRef = z.infer<typeof ModelRefSchema>;

export const VideoRecordSchema = z.object({
  videoId: z.string(),
  bucket: z.string(),
  key: z.string(),
  etag: z.string(),
  /** Object size in bytes, as S3 reported it in the event. */
  size: z.number().int().nonnegative().optional(),
  status: VideoStatusSchema,
  /** For a person: why the video failed. */
  reason: z.string().optional(),
  /** Stable VidxError code of the failure. */
  errorCode: z.string().optional(),
  duration: z.number().nonnegative().optional(),
  fps: z.number().nonnegative().optional(),
  width: z.number().int().nonnegative().optional(),
  height: z.number().int().nonnegative().optional(),
  rotation: z.number().int().optional(),
  codec: z.string().optional(),
  /** The model architecture the clips were planned for. */
  model: z.string(),
  trained: z.boolean(),
  /** sha256 of that model's manifest (absent on records made before it was recorded). */
  modelSha256: z.string().optional(),
  /** The model that made the timeline now stored: set when a revision is indexed. */
  indexedWith: ModelRefSchema.optional(),
  /** Time of the thumbnail that stands for the indexed revision in lists (its best segment's). */
  coverAt: z.number().nonnegative().optional(),
  /** Id of the done/failed event delivered for this revision (set after delivery). */
  notifiedEvent: z.string().optional(),
  clipsTotal: z.number().int().nonnegative(),
  /** The clip plan (clip i owns the windows starting in [clipStarts[i], clipStarts[i] + clipSeconds)),
   * kept so missing clips can be sent again without the model's window arithmetic. */
  clipSeconds: z.number().positive().optional(),
  clipStarts: z.array(z.number().nonnegative()).optional(),
  /** Work units (model windows, and keyframes where people are detected) each clip owns (core/pipeline/progress.ts). */
  clipUnits: z.array(z.number().int().nonnegative()).optional(),
  /** Units a worker has scored so far, per clip index (a DynamoDB map, only ever raised). */
  clipWindows: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** When the first unit of this revision was reported (the ETA's start). */
  workStartedAt: z.string().optional(),
  /** How many times the revision's missing clips were sent again (re-upload or sweeper). */
  requeues: z.number().int().nonnegative().optional(),
  /** True once every clip job of this revision was sent (a retried S3 event then sends nothing). */
  enqueued: z.boolean().optional(),
  /** Indices of the finished clips (a DynamoDB number set; read back as an array). */
  doneClips: z.array(z.number().int().nonnegative()).default([]),
  /** Number of segments in the finished timeline. */
  segments: z.number().int().nonnegative().optional(),
  /** indexed_with_gaps: the time ranges missing from the timeline, in order. */
  gaps: z.array(GapSchema).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  indexedAt: z.string().optional(),
});
export type VideoRecord = z.infer<typeof VideoRecordSchema>;

/** What a listing of videos returns of each: what the API shows, without the plan or the object's place. */
export const VideoSummarySchema = VideoRecordSchema.pick({
  videoId: true,
  key: true,
  etag: true,
  status: true,
  reason: true,
  errorCode: true,
  duration: true,
  fps: true,
  width: true,
  height: true,
  model: true,
  trained: true,
  modelSha256: true,
  indexedWith: true,
  coverAt: true,
  clipsTotal: true,
  doneClips: true,
  segments: true,
  createdAt: true,
  updatedAt: true,
  indexedAt: true,
});
export type VideoSummary = z.infer<typeof VideoSummarySchema>;

export const ClipRecordSchema = z.object({
  videoId: z.string(),
  etag: z.string(),
  index: z.number().int().nonnegative(),
  start: z.number().nonnegative(),
  end: z.number().positive(),
  /** JSON text of WindowScore[] (kept as a string: compact and schema-checked on read). */
  windows: z.string(),
  /** JSON text of KeyframeDetections[] when the deployment detects people (same reasons). */
  keyframes: z.string().optional(),
  device: z.string().optional(),
  /** The clip failed for good (the file itself): no windows, and why (the video keeps the rest). */
  gap: z.object({ errorCode: z.string(), reason: z.string() }).optional(),
  createdAt: z.string(),
});
export type ClipRecord = z.infer<typeof ClipRecordSchema>;
/** A clip result as the worker records it (the index stamps the time). */
export type ClipResult = Omit<ClipRecord, 'createdAt'>;

export const ClipWindowsSchema = z.array(WindowScoreSchema);
export const ClipKeyframesSchema = z.array(KeyframeDetectionsSchema);


/** A stored segment: the one segment schema plus the video (and revision) it belongs to. */
export const SegmentRecordSchema = SegmentSchema.extend({
  videoId: z.string(),
  key: z.string(),
  etag: z.string(),
  /** Time (s) of the segment's thumbnail frame (thumbnailKey), when the worker wrote one. */
  thumbAt: z.number().nonnegative().optional(),
  kind: SegmentKindSchema.optional(),
  /** Person segments: the track id (stable per video) and the person's box on each keyframe. */
  person: z.number().int().positive().optional(),
  boxes: z.array(TimedBoxSchema).optional(),
});
export type SegmentRecord = z.infer<typeof SegmentRecordSchema>;
