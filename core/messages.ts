import { z } from 'zod';

/** One SQS message per clip. Validated with this schema by the segmenter and by the worker. */
export const ClipJobSchema = z.object({
  v: z.literal(1),
  videoId: z.string().regex(/^[0-9a-z]{1,64}$/),
  bucket: z.string().min(3).max(63),
  key: z.string().min(1).max(1024),
  etag: z.string().min(1).max(128),
  clip: z
    .object({
      index: z.number().int().nonnegative(),
      count: z.number().int().positive(),
      /** Seconds: the clip owns the windows whose start is in [start, end). */
      start: z.number().nonnegative(),
      end: z.number().positive(),
    })
    .refine((c) => c.index < c.count && c.start < c.end, 'clip index must be < count and start < end'),
  /** The model id the windows were planned for (its architecture), e.g. "slowfast_r50". */
  model: z.string().min(1).max(64),
  /** sha256 of the manifest the clip was planned with (for logs and re-index; workers check the architecture only). */
  modelSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
});
export type ClipJob = z.infer<typeof ClipJobSchema>;

/**
 * One SQS message per indexed revision: cut its segments' thumbnails (core/pipeline/thumbnail-job.ts).
 * Sent by the assembling worker, taken by a CPU consumer, so the GPU never waits on frame seeks.
 */
export const ThumbnailJobSchema = z.object({
  v: z.literal(1),
  videoId: ClipJobSchema.shape.videoId,
  bucket: ClipJobSchema.shape.bucket,
  key: ClipJobSchema.shape.key,
  etag: ClipJobSchema.shape.etag,
});
export type ThumbnailJob = z.infer<typeof ThumbnailJobSchema>;

/**
 * A clip job as an SQS message body: JSON with every non-ASCII character written as a \uXXXX
 * escape (a character outside the BMP as its two surrogate escapes). JSON.parse gives back the
 * exact same strings, and the body is plain ASCII, which every SQS implementation accepts: real
 * SQS takes any key's characters, the local emulator refuses those above U+FFFF (emoji).
 */
export function encodeClipJob(job: ClipJob): string {
  return asciiJson(ClipJobSchema.parse(job));
}

/** JSON.stringify, then each UTF-16 code unit above 0x7E as \uXXXX (valid JSON, same value). */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
