/**
 * The question language of `POST /query` and `vidx query`: one JSON object, one schema.
 *
 * Kinds (`find`):
 * - `sequence`: steps happen in order, each one starting at most `within` seconds after the end of
 *   the one before (and not before its start); `samePerson` = all by one tracked person.
 * - `together`: every action is going on at the same moment (by anyone), for at least `minSeconds`.
 * - `count`: at least `atLeast` distinct people doing the action at the same moment.
 * - `person`: the actions of one tracked person of one video, in time order.
 *
 * Filters shared by all kinds: `videos` (only these video ids) and `from`/`to` (seconds into each
 * video: only segments overlapping that span count). `limit` and `cursor` page the hits.
 */
import { z } from 'zod';
import { MAX_CURSOR_LENGTH } from './cursor.ts';

/** Largest body `POST /query` reads (bytes); a question is a few hundred. */
export const MAX_QUERY_BODY_BYTES = 16 * 1024;
export const MAX_QUERY_LIMIT = 100;
export const DEFAULT_QUERY_LIMIT = 20;
/** Longest `within` of a sequence (seconds). */
export const MAX_WITHIN_SECONDS = 3600;

const VideoIdSchema = z.string().regex(/^[0-9a-f]{20}$/, 'a video id is 20 hex characters');

/** One action to look for: a label of the person (or clip) model, and the least score it needs. */
export const ConditionSchema = z
  .object({
    action: z.string().trim().min(1).max(100),
    minScore: z.number().min(0).max(1).default(0),
  })
  .strict();
export type Condition = z.infer<typeof ConditionSchema>;

const common = {
  videos: z.array(VideoIdSchema).min(1).max(100).optional(),
  from: z.number().nonnegative().optional(),
  to: z.number().positive().optional(),
  limit: z.number().int().min(1).max(MAX_QUERY_LIMIT).default(DEFAULT_QUERY_LIMIT),
  cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).optional(),
};

/** An action given as its label alone is the same as `{ "action": label }`. */
const Step = z.union([z.string().trim().min(1).max(100).transform((action) => ({ action, minScore: 0 })), ConditionSchema]);

const SequenceSchema = z
  .object({
    find: z.literal('sequence'),
    steps: z.array(Step).min(2).max(5),
    within: z.number().nonnegative().max(MAX_WITHIN_SECONDS),
    samePerson: z.boolean().default(false),
    ...common,
  })
  .strict();

const TogetherSchema = z
  .object({
    find: z.literal('together'),
    actions: z.array(Step).min(2).max(5),
    minSeconds: z.number().nonnegative().default(0),
    ...common,
  })
  .strict();

const CountSchema = z
  .object({
    find: z.literal('count'),
    action: Step,
    atLeast: z.number().int().min(1).max(1000),
    minSeconds: z.number().nonnegative().default(0),
    ...common,
  })
  .strict();

const PersonSchema = z
  .object({
    find: z.literal('person'),
    video: VideoIdSchema,
    person: z.number().int().positive(),
    actions: z.array(Step).min(1).max(20).optional(),
    ...common,
  })
  .strict();

export const QuerySchema = z
  .discriminatedUnion('find', [SequenceSchema, TogetherSchema, CountSchema, PersonSchema])
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { message: 'from must be before to', path: ['to'] });

export type Query = z.infer<typeof QuerySchema>;
export type QueryInput = z.input<typeof QuerySchema>;
export type QueryKind = Query['find'];
export const QUERY_KINDS: readonly QueryKind[] = ['sequence', 'together', 'count', 'person'];
