/**
 * The query API's answers as zod schemas: one definition for the API (its types), the CLI and the
 * web page (which validates every answer with them). Browser-safe: zod and pure domain modules only.
 */
import { z } from 'zod';
import { MATCH_TIERS } from '../labels/match.ts';
import { SegmentKindSchema, TimedBoxSchema } from '../detection/schema.ts';
import { SegmentSchema } from '../result.ts';
import { GapSchema } from '../gap.ts';

export const LabelMatchSchema = z.object({ label: z.string(), tier: z.enum(MATCH_TIERS), score: z.number() });

/** A model as the API names it: architecture, manifest digest, trained or not. */
export const ModelViewSchema = z.object({ architecture: z.string(), manifestSha256: z.string().optional(), trained: z.boolean() });
export type ModelView = z.infer<typeof ModelViewSchema>;

/** How segments were made from window scores (core/query/resegment.ts). */
export const SegmentationSchema = z.object({ threshold: z.number(), gap: z.number(), minDuration: z.number() });

/** A video without internals (no bucket, etag, done set, GSI keys). */
export const VideoViewSchema = z.object({
  videoId: z.string(),
  key: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  errorCode: z.string().optional(),
  duration: z.number().optional(),
  fps: z.number().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  /** The model the current revision is planned for (architecture), and whether it is trained. */
  model: z.string().optional(),
  trained: z.boolean().optional(),
  /** sha256 of that model's manifest. */
  modelSha256: z.string().optional(),
  /** The model that made the timeline now served (differs from `model` while a re-index runs). */
  indexedWith: ModelViewSchema.optional(),
  clipsTotal: z.number().optional(),
  clipsDone: z.number(),
  /** A short-lived GET URL of the indexed video's picture (its best segment's thumbnail), where one exists. */
  thumbnail: z.string().optional(),
  /**
   * Work units (model windows, and keyframes where people are detected) scored of the current
   * revision, and the seconds left at the rate so far (null until a unit is scored, and for a
   * failed video; 0 once indexed). Absent for videos indexed before units were recorded.
   */
  progress: z.object({ windowsDone: z.number(), windowsTotal: z.number(), etaSeconds: z.number().nullable() }).optional(),
  segments: z.number().optional(),
  /** Status indexed_with_gaps: the time ranges missing from the timeline (clips that failed for good), and why. */
  gaps: z.array(GapSchema).optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  indexedAt: z.string().optional(),
});
export type VideoView = z.infer<typeof VideoViewSchema>;

/** A short-lived GET URL of the segment's thumbnail (a JPEG of its best window), where one exists. */
const thumbnail = z.string().optional();

/**
 * What marks a segment's kind: `clip` (a label of the clip classifier's windows) or `person` (an AVA
 * action of one tracked person: `person` is the track id, stable in the video, and `boxes` the
 * person's box, as frame fractions [x1, y1, x2, y2], on each keyframe of the segment).
 */
const kindFields = { kind: SegmentKindSchema, person: z.number().int().positive().optional(), boxes: z.array(TimedBoxSchema).optional() };

/** What the API returns for a segment: the one segment schema plus the video it is in. */
export const SegmentViewSchema = SegmentSchema.extend({ videoId: z.string(), key: z.string(), thumbnail, ...kindFields });
export type SegmentView = z.infer<typeof SegmentViewSchema>;

export const ActionsResponseSchema = z.object({ q: z.string(), actions: z.array(LabelMatchSchema) });
export type ActionsResponse = z.infer<typeof ActionsResponseSchema>;

export const SearchResponseSchema = z.object({
  query: z.object({
    action: z.string().optional(),
    q: z.string().optional(),
    labels: z.array(LabelMatchSchema),
    minScore: z.number(),
    videoId: z.string().optional(),
    segmentation: SegmentationSchema.optional(),
  }),
  items: z.array(SegmentViewSchema),
  nextCursor: z.string().nullable(),
});
export type SearchResponse = z.infer<typeof SearchResponseSchema>;

export const VideoListResponseSchema = z.object({ items: z.array(VideoViewSchema), nextCursor: z.string().nullable() });
export type VideoListResponse = z.infer<typeof VideoListResponseSchema>;

export const TimelineSegmentSchema = SegmentSchema.extend({ thumbnail, ...kindFields });
export const TimelineResponseSchema = z.object({
  video: VideoViewSchema,
  /** True when the video's status is `indexed` (the segments are its finished timeline). */
  complete: z.boolean(),
  message: z.string().optional(),
  segments: z.array(TimelineSegmentSchema.loose()),
  /** True when more segments follow: pass `nextCursor` back as `cursor` for the next page. */
  truncated: z.boolean(),
  nextCursor: z.string().nullable().default(null),
  /**
   * How the segments were made: `stored` = as assembled (the model's defaults), `recomputed` =
   * rebuilt at query time from the stored window scores with the given parameters.
   */
  segmentation: SegmentationSchema.extend({ source: z.enum(['stored', 'recomputed']) }),
});
export type TimelineResponse = z.infer<typeof TimelineResponseSchema>;

/** GET /videos/{id}/media: where the browser plays the video from. */
export const MediaResponseSchema = z.object({ videoId: z.string(), url: z.string(), expiresIn: z.number() });
export type MediaResponse = z.infer<typeof MediaResponseSchema>;

/**
 * GET /upload-url: how to send one new video under the video prefix. A file of one part (or of
 * unknown size) gets a presigned PUT; a larger one (`size=` above one part) a presigned
 * CreateMultipartUpload POST, its part size and count: the parts' URLs come from /upload-parts.
 */
const uploadTarget = {
  key: z.string(),
  videoId: z.string(),
  url: z.string(),
  /** Headers the request must send exactly (they are signed). */
  headers: z.record(z.string(), z.string()),
  expiresIn: z.number(),
};
export const UploadUrlResponseSchema = z.discriminatedUnion('method', [
  z.object({ ...uploadTarget, method: z.literal('PUT') }),
  z.object({ ...uploadTarget, method: z.literal('MULTIPART'), partSize: z.number().int().positive(), parts: z.number().int().positive() }),
]);
export type UploadUrlResponse = z.infer<typeof UploadUrlResponseSchema>;

/** GET /upload-parts: a presigned PUT per part (in order, part 1 first), and the upload's complete and abort URLs. */
export const UploadPartsResponseSchema = z.object({
  key: z.string(),
  uploadId: z.string(),
  parts: z.array(z.string()),
  /** POST the CompleteMultipartUpload XML (each part's number and ETag) here. */
  complete: z.string(),
  /** DELETE here to abandon the upload. */
  abort: z.string(),
  expiresIn: z.number(),
});
export type UploadPartsResponse = z.infer<typeof UploadPartsResponseSchema>;

export const ErrorResponseSchema = z.object({ status: z.number(), code: z.string(), message: z.string(), hint: z.string().optional() });
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** One answer of `POST /query`: the span, who, and the segments behind it (each with its boxes and thumbnail). */
export const QueryHitSchema = z.object({
  videoId: z.string(),
  key: z.string(),
  start: z.number(),
  end: z.number(),
  person: z.number().int().positive().optional(),
  people: z.array(z.number().int().positive()).optional(),
  /** The first evidence segment's thumbnail, where it has one. */
  thumbnail,
  evidence: z.array(SegmentViewSchema),
});
export type QueryHit = z.infer<typeof QueryHitSchema>;

export const QueryResponseSchema = z.object({
  /** The question as understood (defaults filled in; no cursor). */
  query: z.record(z.string(), z.unknown()),
  items: z.array(QueryHitSchema),
  nextCursor: z.string().nullable(),
  /** Videos this page read (a page reads a bounded number, so it can be short while nextCursor is set). */
  videosRead: z.number().int().nonnegative(),
});
export type QueryResponse = z.infer<typeof QueryResponseSchema>;
