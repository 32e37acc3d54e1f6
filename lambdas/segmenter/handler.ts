/**
 * Segmenter Lambda: S3 ObjectCreated events -> video record + one SQS message per clip.
 * Deployed, S3 notifies the intake queue and an event source mapping invokes `handler` with SQS
 * batches of S3 events (makeIntakeHandler: the failed messages are returned as batchItemFailures,
 * so only they come back); `vidx local` and the tests call makeSegmenterHandler with an S3 event
 * directly. Both are thin: validate the event (powertools parser schemas), decode the keys, then
 * the use case in core/pipeline/segment.ts with the dependencies of deps.ts.
 * Settings: core/settings/processes.ts SEGMENTER_SETTINGS (table, queue, model manifest, video
 * prefix, clip length, analyses, event sinks, and the endpoint overrides when run locally).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { z } from 'zod';
import { VidxError } from '../../core/errors.ts';
import { awsConfigOf, createClients } from '../../adapters/clients.ts';
import { loadModelRef } from '../../core/pipeline/model-ref.ts';
import { eventSinksOf } from '../../adapters/event-sinks.ts';
import { parseSettings } from '../../core/settings/define.ts';
import { SEGMENTER_SETTINGS } from '../../core/settings/processes.ts';
import { segmentObject, type SegmenterDeps, type SegmentOutcome } from '../../core/pipeline/segment.ts';
import { buildSegmenterDeps } from './deps.ts';
import { redactingLog } from '../../core/redact.ts';

/** S3 event keys are URL-encoded with '+' for spaces. A malformed encoding is a typed error. */
export function decodeS3Key(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch (e) {
    throw new VidxError('BAD_KEY_ENCODING', `the S3 event's object key is not valid URL encoding: ${JSON.stringify(raw.slice(0, 200))}`, { cause: e });
  }
}

const logger = new Logger({ serviceName: 'vidx-segmenter' });

export type S3EventHandler = (event: unknown) => Promise<{ results: SegmentOutcome[] }>;
export type IntakeHandler = (event: unknown) => Promise<SQSBatchResponse>;

type S3Event = z.infer<typeof S3Schema>;

/** Segments every ObjectCreated record of one S3 event; a record that throws fails alone. */
function segmentRecords(deps: SegmenterDeps, event: S3Event): Promise<PromiseSettledResult<SegmentOutcome>[]> {
  return Promise.allSettled(
    // async: a record that throws (even synchronously) fails alone; the others still run.
    event.Records.filter((r) => r.eventName.startsWith('ObjectCreated:')).map(async (r) =>
      segmentObject(deps, {
        bucket: r.s3.bucket.name,
        key: r.s3.object.urlDecodedKey ?? decodeS3Key(r.s3.object.key),
        etag: (r.s3.object.eTag ?? '').replace(/^"|"$/g, ''),
        size: r.s3.object.size,
      }),
    ),
  );
}

function problemOf(error: z.ZodError): string {
  return error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

/** Errors quote presigned URLs: every line the segmenter writes is redacted (core/redact.ts). */
function redacted(given: SegmenterDeps): SegmenterDeps {
  return { ...given, log: redactingLog(given.log) };
}

/** The message S3 sends to a queue once, when its notification is configured: nothing to do. */
const S3TestEventSchema = z.object({ Service: z.literal('Amazon S3'), Event: z.literal('s3:TestEvent') });

/**
 * The deployed entry: an SQS batch from the intake queue, each message one S3 event. A message
 * whose record failed (a transient fault, or another event still enqueueing the same revision) is
 * reported in batchItemFailures and comes back after the visibility timeout; after the queue's
 * maxReceiveCount it waits in the dead-letter queue. A body that is not an S3 event fails too, so
 * it lands there for a person to read rather than vanishing.
 */
export function makeIntakeHandler(given: SegmenterDeps): IntakeHandler {
  const deps = redacted(given);
  return async (event: unknown) => {
    const batch = SqsSchema.safeParse(event);
    if (!batch.success) {
      const problem = problemOf(batch.error);
      deps.log.error('not an SQS event', { problem });
      throw new VidxError('BAD_EVENT', `the segmenter received something that is not an SQS batch (${problem})`);
    }
    const failed = await Promise.all(
      batch.data.Records.map(async (m): Promise<string | undefined> => {
        const ctx = { messageId: m.messageId, receiveCount: m.attributes.ApproximateReceiveCount };
        let body: unknown;
        try {
          body = JSON.parse(m.body);
        } catch (e) {
          deps.log.error('intake message is not JSON: it goes to the dead-letter queue after the receive limit', { ...ctx, error: String(e) });
          return m.messageId;
        }
        if (S3TestEventSchema.safeParse(body).success) return undefined;
        const s3 = S3Schema.safeParse(body);
        if (!s3.success) {
          deps.log.error('intake message is not an S3 event: it goes to the dead-letter queue after the receive limit', { ...ctx, problem: problemOf(s3.error) });
          return m.messageId;
        }
        const settled = await segmentRecords(deps, s3.data);
        for (const r of settled) {
          if (r.status === 'rejected') deps.log.error('record failed, the event will be retried', { ...ctx, error: String(r.reason) });
          else if (r.value.outcome === 'in-progress') deps.log.info('revision being enqueued by another event: retried later', { ...ctx, videoId: r.value.videoId });
        }
        return settled.some((r) => r.status === 'rejected' || r.value.outcome === 'in-progress') ? m.messageId : undefined;
      }),
    );
    return { batchItemFailures: failed.filter((id): id is string => id !== undefined).map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

/** Builds the handler of direct S3 events around explicit dependencies (`vidx local` and the tests). */
export function makeSegmenterHandler(given: SegmenterDeps): S3EventHandler {
  const deps = redacted(given);
  return async (event: unknown) => {
    const parsed = S3Schema.safeParse(event);
    if (!parsed.success) {
      // Not retryable: the same bytes will never parse. Logged and rejected loudly.
      const problem = problemOf(parsed.error);
      deps.log.error('not an S3 event', { problem });
      throw new VidxError('BAD_EVENT', `the segmenter received something that is not an S3 event (${problem})`);
    }
    const settled = await segmentRecords(deps, parsed.data);
    const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failures.length > 0) {
      // Transient faults: fail the invocation so S3/Lambda retry it; finished records are idempotent.
      for (const f of failures) deps.log.error('record failed, the event will be retried', { error: String(f.reason) });
      throw failures[0]!.reason;
    }
    return { results: settled.map((s) => (s as PromiseFulfilledResult<SegmentOutcome>).value) };
  };
}

export async function segmenterDepsFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<SegmenterDeps> {
  const s = parseSettings(SEGMENTER_SETTINGS, env);
  const clients = createClients(awsConfigOf(s));
  const { manifest, ref } = loadModelRef(s.model);
  return buildSegmenterDeps({
    clients,
    tableName: s.tableName,
    labelShards: s.labelShards,
    queueUrl: s.queueUrl,
    model: manifest,
    manifestSha256: ref.manifestSha256,
    events: { sinks: (await eventSinksOf(clients.config, s)).sinks },
    prefix: s.videoPrefix,
    clipSeconds: s.clipSeconds,
    ...(s.analyses.detect ? { keyframeInterval: s.keyframeInterval } : {}),
    log: logger,
  });
}

let lambdaHandler: IntakeHandler | undefined;

/** The Lambda entry point: SQS batches from the intake queue. */
export async function handler(event: unknown): Promise<SQSBatchResponse> {
  lambdaHandler ??= makeIntakeHandler(await segmenterDepsFromEnv());
  return lambdaHandler(event);
}
