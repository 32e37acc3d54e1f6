/**
 * `vidx local`'s thumbnail consumer: the stack's own process takes the thumbnail jobs the worker
 * sends (core/pipeline/thumbnail-job.ts), as the CPU consumer does when deployed, so the worker
 * (a child process on the CPU here) never spends its batch on frame seeks. sqs-consumer does the
 * polling; a job that throws comes back after the queue's visibility timeout.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import type { AwsClients } from '../../adapters/clients.ts';
import { createIndex } from '../../adapters/dynamo-index/create.ts';
import { s3VideoObjects } from '../../adapters/objects.ts';
import { s3ThumbnailWriter } from '../../adapters/thumbnails.ts';
import { ThumbnailJobSchema } from '../../core/messages.ts';
import type { PipelineLog } from '../../core/pipeline/ports.ts';
import { processThumbnailJob } from '../../core/pipeline/thumbnail-job.ts';
import { redactingLog } from '../../core/redact.ts';

export interface ThumbnailConsumer {
  stop(): Promise<void>;
}

export function startThumbnailConsumer(clients: AwsClients, o: { queueUrl: string; tableName: string; waitTimeSeconds: number; log: PipelineLog }): ThumbnailConsumer {
  const log = redactingLog(o.log);
  const deps = { store: createIndex(clients, o.tableName), objects: s3VideoObjects(clients.s3), thumbnails: s3ThumbnailWriter(clients.s3), log };
  const consumer = Consumer.create({
    queueUrl: o.queueUrl,
    sqs: clients.sqs,
    waitTimeSeconds: o.waitTimeSeconds,
    handleMessage: async (m: Message) => {
      const job = ThumbnailJobSchema.safeParse(safeJson(m.Body));
      // Not a thumbnail job: acknowledged (dropped) with a line, nothing can ever make it one.
      if (!job.success) log.error('not a thumbnail job: dropped', { messageId: m.MessageId });
      else await processThumbnailJob(deps, job.data);
      return m;
    },
  });
  consumer.on('error', (e) => log.error('thumbnail queue error', { error: String(e) }));
  consumer.on('processing_error', (e) => log.warn('thumbnail job failed: retried', { error: String(e) }));
  consumer.start();
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (!consumer.status.isRunning) return resolve();
        consumer.once('stopped', () => resolve());
        consumer.stop();
      }),
  };
}

function safeJson(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? '');
  } catch (_e) {
    return undefined;
  }
}
