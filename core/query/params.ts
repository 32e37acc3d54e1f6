/**
 * Query-string schemas of the API (zod). Every route accepts exactly its parameters: an
 * unknown one is an error (a misspelt `minscore` must not be silently ignored).
 * Values arrive as strings (API Gateway decodes them); numbers are parsed strictly.
 */
import { z } from 'zod';
import { VidxError } from '../errors.ts';
import { normalize } from '../labels/match.ts';
import { MAX_CURSOR_LENGTH } from './cursor.ts';
import { MAX_QUERY_LENGTH, VIDEO_ID_PATTERN } from './limits.ts';
import { MAX_UPLOAD_BYTES, MAX_UPLOAD_PARTS, UPLOAD_CONTENT_TYPE_PATTERN, UPLOAD_ID_PATTERN, UPLOAD_NAME_PATTERN } from './media.ts';
import { EXPORT_FORMATS } from '../export/formats.ts';

export { MAX_QUERY_LENGTH, VIDEO_ID_PATTERN };
export const MAX_ACTION_LENGTH = 200;
export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
export const DEFAULT_ACTIONS_LIMIT = 10;
export const MAX_ACTIONS_LIMIT = 50;

const text = (name: string, max: number) =>
  z
    .string()
    .transform((s) => s.trim())
    .pipe(
      z
        .string()
        .min(1, `${name} must not be empty`)
        .max(max, `${name} is longer than ${max} characters`)
        .regex(/[\p{L}\p{N}]/u, `${name} must contain a letter or a digit`)
        // Normalisation can grow text (NFKD makes 18 characters of U+FDFA): the limit holds after it too.
        .refine((v) => normalize(v).length <= max, `${name} is longer than ${max} characters once normalized`),
    );

const intIn = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, `${name} must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `${name} must be from ${min} to ${max}`).max(max, `${name} must be from ${min} to ${max}`));

const score = z
  .string()
  .regex(/^(\d+(\.\d*)?|\.\d+)$/, 'minScore must be a number from 0 to 1')
  .transform(Number)
  .pipe(z.number().min(0, 'minScore must be from 0 to 1').max(1, 'minScore must be from 0 to 1'));

/** Query-time segmentation (core/query/resegment.ts): bounds of its parameters. */
export const MAX_GAP = 1000;
export const MAX_MIN_DURATION = 86_400;

const decimal = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^(\d+(\.\d*)?|\.\d+)$/, `${name} must be a number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `${name} must be from ${min} to ${max}`).max(max, `${name} must be from ${min} to ${max}`));

/** threshold, gap and minDuration: given = recompute segments from the stored window scores. */
const segmentation = {
  threshold: decimal('threshold', 0, 1).optional(),
  gap: intIn('gap', 0, MAX_GAP).optional(),
  minDuration: decimal('minDuration', 0, MAX_MIN_DURATION).optional(),
};

export const videoIdSchema = z.string().regex(VIDEO_ID_PATTERN, 'video id must be 20 lower-case hex characters');
const cursor = z.string().min(1, 'cursor must not be empty').max(MAX_CURSOR_LENGTH, 'cursor is too long');

export const ActionsParamsSchema = z.strictObject({
  q: text('q', MAX_QUERY_LENGTH),
  limit: intIn('limit', 1, MAX_ACTIONS_LIMIT).default(DEFAULT_ACTIONS_LIMIT),
});
export type ActionsParams = z.output<typeof ActionsParamsSchema>;

export const SearchParamsSchema = z
  .strictObject({
    action: text('action', MAX_ACTION_LENGTH).optional(),
    q: text('q', MAX_QUERY_LENGTH).optional(),
    minScore: score.default(0),
    videoId: videoIdSchema.optional(),
    limit: intIn('limit', 1, MAX_LIMIT).default(DEFAULT_LIMIT),
    cursor: cursor.optional(),
    ...segmentation,
  })
  .refine((p) => (p.action === undefined) !== (p.q === undefined), {
    message: 'give exactly one of action= (an exact label) or q= (free text)',
    path: ['action'],
  })
  .refine((p) => p.videoId !== undefined || (p.threshold === undefined && p.gap === undefined && p.minDuration === undefined), {
    message: 'threshold, gap and minDuration re-segment one video: give videoId= with them',
    path: ['videoId'],
  });
export type SearchParams = z.output<typeof SearchParamsSchema>;

export const ListVideosParamsSchema = z.strictObject({
  limit: intIn('limit', 1, MAX_LIMIT).default(DEFAULT_LIMIT),
  cursor: cursor.optional(),
});
export type ListVideosParams = z.output<typeof ListVideosParamsSchema>;

const uploadName = z.string().regex(UPLOAD_NAME_PATTERN, 'name must be a plain file name (letters, digits, space, ._()+-) with a video extension');

export const UploadUrlParamsSchema = z.strictObject({
  /** The file's name: it becomes the object key under the video prefix (same name = new revision). */
  name: uploadName,
  type: z.string().regex(UPLOAD_CONTENT_TYPE_PATTERN, 'type must be a video/* content type, image/gif or application/octet-stream').default('application/octet-stream'),
  /** The file's size in bytes: above one part, the answer is a multipart upload. */
  size: z
    .string()
    .regex(/^\d{1,16}$/, 'size must be a whole number of bytes')
    .transform(Number)
    .pipe(z.number().max(MAX_UPLOAD_BYTES, `size must be at most ${MAX_UPLOAD_BYTES} bytes (5 TiB)`))
    .optional(),
});
export type UploadUrlParams = z.output<typeof UploadUrlParamsSchema>;

export const UploadPartsParamsSchema = z.strictObject({
  name: uploadName,
  uploadId: z.string().regex(UPLOAD_ID_PATTERN, 'uploadId must be the UploadId that CreateMultipartUpload answered'),
  parts: intIn('parts', 1, MAX_UPLOAD_PARTS),
});
export type UploadPartsParams = z.output<typeof UploadPartsParamsSchema>;

export const NoParamsSchema = z.strictObject({});

/** Segments per timeline page: a page of person segments with their boxes stays well under Lambda's 6 MB answer. */
export const DEFAULT_TIMELINE_LIMIT = 200;
export const MAX_TIMELINE_LIMIT = 1000;

export const TimelineParamsSchema = z.strictObject({
  format: z.enum(EXPORT_FORMATS, { message: `format must be one of ${EXPORT_FORMATS.join(', ')}` }).default('json'),
  limit: intIn('limit', 1, MAX_TIMELINE_LIMIT).default(DEFAULT_TIMELINE_LIMIT),
  cursor: cursor.optional(),
  ...segmentation,
});
export type TimelineParams = z.output<typeof TimelineParamsSchema>;

/** Parses query parameters with `schema`; every failure is a 400 VidxError naming the parameter. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function parseParams<S extends z.ZodType>(schema: S, raw: Record<string, string | undefined> | undefined): z.output<S> {
  // `input.__proto__ = v` would set the prototype (the parameter silently gone) and zod skips an
  // own `__proto__` key: refuse the names that are object machinery before anything else.
  const machinery = Object.keys(raw ?? {}).filter((k) => PROTOTYPE_KEYS.has(k));
  if (machinery.length > 0) {
    throw new VidxError('UNKNOWN_PARAMETER', `unknown parameter${machinery.length > 1 ? 's' : ''}: ${machinery.join(', ')}`, {
      hint: 'see the API description in ARCHITECTURE.md',
    });
  }
  const input: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) if (v !== undefined) input[k] = v;
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    throw new VidxError('UNKNOWN_PARAMETER', `unknown parameter${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`, {
      hint: 'see the API description in ARCHITECTURE.md',
    });
  }
  const name = issue?.path.map(String).join('.') || 'parameters';
  const missing = issue?.code === 'invalid_type' && input[name] === undefined;
  throw new VidxError('INVALID_PARAMETER', missing ? `${name} is required` : (issue?.message ?? 'invalid parameters'));
}

export function parseVideoId(id: string): string {
  const r = videoIdSchema.safeParse(id);
  if (!r.success) throw new VidxError('INVALID_PARAMETER', 'video id must be 20 lower-case hex characters');
  return r.data;
}
