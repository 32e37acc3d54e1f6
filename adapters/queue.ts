/**
 * The clip job queue: send batches (10 per call). Entries SQS failed on its side are retried;
 * entries it refused as the sender's fault (their content) are refused for good: ENQUEUE_REJECTED.
 */
import { GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { VidxError } from '../core/errors.ts';
import { ThumbnailJobSchema, asciiJson, encodeClipJob, type ClipJob } from '../core/messages.ts';
import type { ClipQueue, ThumbnailJobs } from '../core/pipeline/ports.ts';

/** SQS limit on entries per SendMessageBatch. */
export const SQS_BATCH_MAX = 10;

export interface SendOptions {
  /** Attempts per entry (first try included). */
  attempts?: number;
  /** Base backoff between retries (ms), doubled each time. */
  backoffMs?: number;
}

/**
 * Sends every job (validated against the shared schema, ASCII-only bodies: encodeClipJob), 10 per
 * call. Entries SQS reports as failed by its own fault are retried with backoff; entries that still
 * fail after `attempts` raise ENQUEUE_FAILED (the caller's event is then retried, and duplicates
 * are harmless: the worker is idempotent). An entry refused as the sender's fault (SenderFault:
 * its content) would be refused again: ENQUEUE_REJECTED at once, for the caller to fail the video.
 */
export async function sendClipJobs(sqs: SQSClient, queueUrl: string, jobs: readonly ClipJob[], options: SendOptions = {}): Promise<number> {
  const attempts = options.attempts ?? 5;
  const backoffMs = options.backoffMs ?? 100;
  let sent = 0;
  for (let i = 0; i < jobs.length; i += SQS_BATCH_MAX) {
    let pending: SendMessageBatchRequestEntry[] = jobs.slice(i, i + SQS_BATCH_MAX).map((job, j) => ({
      Id: `c${i + j}`,
      MessageBody: encodeClipJob(job),
    }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      let r;
      try {
        r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
      } catch (e) {
        const name = (e as { name?: string }).name ?? '';
        if (/InvalidMessageContents|BatchRequestTooLong/.test(name)) {
          throw new VidxError('ENQUEUE_REJECTED', `the clip queue refused the clip jobs: ${name} ${(e as Error).message}`.trim(), { cause: e });
        }
        throw e;
      }
      sent += r.Successful?.length ?? 0;
      const refused = (r.Failed ?? []).find((f) => f.SenderFault === true);
      if (refused) {
        throw new VidxError('ENQUEUE_REJECTED', `the clip queue refused a clip job: ${refused.Code ?? ''} ${refused.Message ?? ''}`.trim());
      }
      const failed = new Set((r.Failed ?? []).map((f) => f.Id));
      const retry = pending.filter((e) => failed.has(e.Id));
      if (retry.length > 0 && attempt >= attempts) {
        const first = r.Failed?.[0];
        throw new VidxError('ENQUEUE_FAILED', `could not enqueue ${retry.length} clip job(s) after ${attempts} attempts: ${first?.Code ?? ''} ${first?.Message ?? ''}`.trim());
      }
      pending = retry;
      if (pending.length > 0) await new Promise((res) => setTimeout(res, backoffMs * 2 ** (attempt - 1)));
    }
  }
  return sent;
}

/** The pipeline's clip queue over one SQS queue. */
export function sqsClipQueue(sqs: SQSClient, queueUrl: string, options: SendOptions = {}): ClipQueue {
  return {
    send: (jobs) => sendClipJobs(sqs, queueUrl, jobs, options),
    async waiting() {
      const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
      const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] }));
      return names.reduce((n, name) => n + Number(r.Attributes?.[name] ?? 0), 0);
    },
  };
}

/** The thumbnail job queue over one SQS queue (one message per indexed revision). */
export function sqsThumbnailJobs(sqs: SQSClient, queueUrl: string): ThumbnailJobs {
  return {
    async send(job) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: asciiJson(ThumbnailJobSchema.parse(job)) }));
    },
  };
}
