/**
 * Thumbnail Lambda (the CPU consumer of the thumbnail queue): each SQS message is one thumbnail
 * job of an indexed revision (core/pipeline/thumbnail-job.ts), cut with ffmpeg from a layer. Thin:
 * parse the batch (powertools parser), run the use case per message, report the failed ones as
 * batchItemFailures so only they come back.
 * Settings: core/settings/processes.ts THUMBNAIL_SETTINGS (table, the layer's ffmpeg).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { VidxError } from '../../core/errors.ts';
import { ThumbnailJobSchema } from '../../core/messages.ts';
import { parseSettings } from '../../core/settings/define.ts';
import { THUMBNAIL_SETTINGS } from '../../core/settings/processes.ts';
import { awsConfigOf, createClients, type AwsClients } from '../../adapters/clients.ts';
import { createIndex } from '../../adapters/dynamo-index/create.ts';
import { s3VideoObjects } from '../../adapters/objects.ts';
import { s3ThumbnailWriter } from '../../adapters/thumbnails.ts';
import type { PipelineLog } from '../../core/pipeline/ports.ts';
import { processThumbnailJob, type ThumbnailJobDeps } from '../../core/pipeline/thumbnail-job.ts';
import { redactingLog } from '../../core/redact.ts';

export function buildThumbnailDeps(clients: Pick<AwsClients, 's3' | 'doc'>, tableName: string, log: PipelineLog): ThumbnailJobDeps {
  return { store: createIndex(clients, tableName), objects: s3VideoObjects(clients.s3), thumbnails: s3ThumbnailWriter(clients.s3), log: redactingLog(log) };
}

export function makeThumbnailHandler(deps: ThumbnailJobDeps): (event: unknown) => Promise<SQSBatchResponse> {
  return async (event) => {
    const batch = SqsSchema.safeParse(event);
    if (!batch.success) throw new VidxError('BAD_EVENT', 'the thumbnail Lambda received something that is not an SQS batch');
    const failed: string[] = [];
    for (const m of batch.data.Records) {
      let body: unknown;
      try {
        body = JSON.parse(m.body);
      } catch (_e) {
        body = undefined;
      }
      const job = ThumbnailJobSchema.safeParse(body);
      if (!job.success) {
        // Dead-lettered after the receive limit, where a person can read it.
        deps.log.error('not a thumbnail job', { messageId: m.messageId });
        failed.push(m.messageId);
        continue;
      }
      try {
        await processThumbnailJob(deps, job.data);
      } catch (e) {
        deps.log.warn('thumbnail job failed: retried', { messageId: m.messageId, videoId: job.data.videoId, error: e instanceof Error ? e.message : String(e) });
        failed.push(m.messageId);
      }
    }
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

const logger = new Logger({ serviceName: 'vidx-thumbnails' });
let lambdaHandler: ((event: unknown) => Promise<SQSBatchResponse>) | undefined;

/** The Lambda entry point. */
export async function handler(event: unknown): Promise<SQSBatchResponse> {
  if (!lambdaHandler) {
    const settings = parseSettings(THUMBNAIL_SETTINGS);
    lambdaHandler = makeThumbnailHandler(buildThumbnailDeps(createClients(awsConfigOf(settings)), settings.tableName, logger));
  }
  return lambdaHandler(event);
}
