/**
 * Segmenter Lambda: S3 ObjectCreated events -> video record + one SQS message per clip.
 * Thin: validate the event (powertools parser schema), decode the keys, then the use case in
 * core/pipeline/segment.ts with the dependencies of deps.ts.
 * Settings: core/settings/processes.ts SEGMENTER_SETTINGS (table, queue, model manifest, video
 * prefix, clip length, analyses, event sinks, and the endpoint overrides when run locally).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
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

/** Builds the handler around explicit dependencies (the Lambda, `vidx local` and the tests). */
export function makeSegmenterHandler(given: SegmenterDeps): S3EventHandler {
  // Errors quote presigned URLs: every line is redacted (core/redact.ts).
  const deps: SegmenterDeps = { ...given, log: redactingLog(given.log) };
  return async (event: unknown) => {
    const parsed = S3Schema.safeParse(event);
    if (!parsed.success) {
      // Not retryable: the same bytes will never parse. Logged and rejected loudly.
      const problem = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      deps.log.error('not an S3 event', { problem });
      throw new VidxError('BAD_EVENT', `the segmenter received something that is not an S3 event (${problem})`);
    }
    const settled = await Promise.allSettled(
      // async: a record that throws (even synchronously) fails alone; the others still run.
      parsed.data.Records.filter((r) => r.eventName.startsWith('ObjectCreated:')).map(async (r) =>
        segmentObject(deps, {
          bucket: r.s3.bucket.name,
          key: r.s3.object.urlDecodedKey ?? decodeS3Key(r.s3.object.key),
          etag: (r.s3.object.eTag ?? '').replace(/^"|"$/g, ''),
          size: r.s3.object.size,
        }),
      ),
    );
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

let lambdaHandler: S3EventHandler | undefined;

/** The Lambda entry point. */
export async function handler(event: unknown): Promise<{ results: SegmentOutcome[] }> {
  lambdaHandler ??= makeSegmenterHandler(await segmenterDepsFromEnv());
  return lambdaHandler(event);
}
