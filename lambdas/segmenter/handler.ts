/**
 * Segmenter Lambda: S3 ObjectCreated events -> video record + one SQS message per clip.
 * Thin: validate the event (powertools parser schema), decode the keys, then the use case in
 * core/pipeline/segment.ts with the dependencies of deps.ts.
 * Configuration (env): VIDX_TABLE, VIDX_QUEUE_URL, VIDX_MODEL (manifest path), VIDX_VIDEO_PREFIX,
 * VIDX_CLIP_SECONDS, and the endpoint overrides of adapters/clients.ts when run locally.
 */
import { parseAnalyses, keyframeIntervalFrom } from '../../core/detection/analyses.ts';
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { VidxError } from '../../core/errors.ts';
import { DEFAULTS, ENV, TABLE, VIDEO_PREFIX } from '../../core/names.ts';
import { createClients } from '../../adapters/clients.ts';
import { clipSecondsFrom } from '../../core/pipeline/plan.ts';
import { loadModelRef } from '../../core/pipeline/model-ref.ts';
import { eventSinksFromEnv } from '../../adapters/event-sinks.ts';
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
  const clients = createClients();
  const manifestPath = env[ENV.model];
  const queueUrl = env[ENV.queueUrl];
  if (!manifestPath || !queueUrl) {
    throw new VidxError('CONFIG_MISSING', `the segmenter needs ${ENV.model} and ${ENV.queueUrl} in its environment`);
  }
  const { manifest, ref } = loadModelRef(manifestPath);
  return buildSegmenterDeps({
    clients,
    tableName: env[ENV.table] || TABLE.name,
    queueUrl,
    model: manifest,
    manifestSha256: ref.manifestSha256,
    events: { sinks: (await eventSinksFromEnv(clients.config, env)).sinks },
    prefix: env[ENV.videoPrefix] || VIDEO_PREFIX,
    clipSeconds: clipSecondsFrom(env[ENV.clipSeconds], DEFAULTS.clipSeconds),
    ...(parseAnalyses(env[ENV.analyses]).detect ? { keyframeInterval: keyframeIntervalFrom(env[ENV.keyframeInterval]) } : {}),
    log: logger,
  });
}

let lambdaHandler: S3EventHandler | undefined;

/** The Lambda entry point. */
export async function handler(event: unknown): Promise<{ results: SegmentOutcome[] }> {
  lambdaHandler ??= makeSegmenterHandler(await segmenterDepsFromEnv());
  return lambdaHandler(event);
}
