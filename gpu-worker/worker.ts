/**
 * The clip-queue consumer: sqs-consumer does the long poll, the batch delivery, the heartbeat
 * (visibility extension while a batch is worked on) and the deletes; this wraps it with the vidx
 * policy: which messages are acknowledged, released or retried, and a graceful, bounded stop.
 */
import { ChangeMessageVisibilityBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import { Consumer } from 'sqs-consumer';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ClipJobSchema, type ClipJob } from '../core/messages.ts';
import { SQS_MAX_BATCH } from '../core/settings/processes.ts';
import { DEFAULT_QUEUE_SETTINGS, workerSettingsOf } from './settings.ts';
import { s3VideoObjects } from '../adapters/objects.ts';
import { s3ThumbnailWriter } from '../adapters/thumbnails.ts';
import { processClip, type ClipDeps, type ClipOutcome } from '../core/pipeline/process-clip.ts';
import type { PipelineLog } from '../core/pipeline/ports.ts';
import { redactingLog } from '../core/redact.ts';

export interface WorkerOptions extends Omit<ClipDeps, 'objects'> {
  s3: S3Client;
  sqs: SQSClient;
  queueUrl: string;
  /** Messages per receive (1..10); their windows are scored together. */
  batchSize?: number;
  waitTimeSeconds?: number;
  visibilityTimeoutSeconds?: number;
  heartbeatSeconds?: number;
  /** Seconds a transiently failed message stays hidden before its next try (default 2^receives, max 60). */
  retryDelaySeconds?: (receiveCount: number) => number;
  /** Bound on the drain after stop() (the ECS stop timeout minus a margin). */
  stopTimeoutSeconds?: number;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** The settings a worker runs with (reported by status() and the health endpoint). */
export interface WorkerRunSettings {
  /** Messages per receive. */
  batchSize: number;
  visibilityTimeoutSeconds: number;
  heartbeatSeconds: number;
  /** Seconds the batch in hand may take to finish after a stop. */
  drainSeconds: number;
  /** Mean wall time of the recent batches (ms): a stop releases at once a batch that cannot finish in the drain. */
  batchMs: number | undefined;
}

export interface WorkerStats {
  running: boolean;
  draining: boolean;
  inFlight: number;
  received: number;
  done: number;
  failed: number;
  retried: number;
  stale: number;
  poison: number;
  assembled: number;
  lastPollAt: string | undefined;
  startedAt: string;
}

export class ClipWorker {
  private readonly consumer: Consumer;
  private readonly clipDeps: ClipDeps;
  /** Every line the worker writes goes through redaction: errors quote presigned URLs. */
  private readonly log: PipelineLog;
  private draining = false;
  private crashed = false;
  private readonly workAbort = new AbortController();
  private readonly crashAbort = new AbortController();
  private current: Promise<unknown> | undefined;
  private batchStartedAt = 0;
  private readonly stats: WorkerStats = {
    running: false, draining: false, inFlight: 0, received: 0, done: 0, failed: 0, retried: 0, stale: 0, poison: 0, assembled: 0,
    lastPollAt: undefined, startedAt: new Date().toISOString(),
  };
  private readonly settings: WorkerRunSettings;
  /** The drain of a worker with the default stop timeout, when none is given. */
  private readonly drainFallbackSeconds: number;

  constructor(private readonly opts: WorkerOptions) {
    this.log = redactingLog(opts.log);
    this.clipDeps = { thumbnails: s3ThumbnailWriter(opts.s3), ...opts, log: this.log, objects: s3VideoObjects(opts.s3) };
    // What is not given is what a worker with the default settings does (gpu-worker/settings.ts).
    const fallback = workerSettingsOf(
      {
        visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds ?? DEFAULT_QUEUE_SETTINGS.visibilityTimeoutSeconds,
        heartbeatSeconds: opts.heartbeatSeconds ?? DEFAULT_QUEUE_SETTINGS.heartbeatSeconds,
        stopTimeoutSeconds: DEFAULT_QUEUE_SETTINGS.stopTimeoutSeconds,
        waitTimeSeconds: opts.waitTimeSeconds ?? DEFAULT_QUEUE_SETTINGS.waitTimeSeconds,
        // Tests and `vidx local` build workers directly: a full receive unless told otherwise.
        batchSize: opts.batchSize ?? SQS_MAX_BATCH,
      },
      opts.scorer.device,
    );
    const { visibilityTimeoutSeconds: visibility, heartbeatSeconds: heartbeat, batchSize, waitTimeSeconds } = fallback;
    this.drainFallbackSeconds = fallback.drainSeconds;
    this.settings = { batchSize, visibilityTimeoutSeconds: visibility, heartbeatSeconds: heartbeat, drainSeconds: this.drainSeconds(), batchMs: undefined };
    this.consumer = Consumer.create({
      queueUrl: opts.queueUrl,
      sqs: opts.sqs,
      batchSize,
      waitTimeSeconds,
      visibilityTimeout: visibility,
      heartbeatInterval: heartbeat,
      messageSystemAttributeNames: ['ApproximateReceiveCount'],
      // Acknowledgement is decided per message by handleBatch (returned = deleted).
      handleMessageBatch: (messages) => this.track(this.handleBatch(messages)),
      postReceiveMessageCallback: async () => {
        this.stats.lastPollAt = new Date().toISOString();
      },
      strictReturn: true,
      // stop() waits for the poll in progress (and the batch it brought) to complete.
      pollingCompleteWaitTimeMs: (waitTimeSeconds + 5) * 1000 + this.drainSeconds() * 1000,
    });
    this.consumer.on('error', (err) => {
      // crash() aborts the pending poll on purpose; anything else is worth an error line.
      if (this.draining && /abort/i.test(String(err))) return;
      this.log.error('queue error', { error: String(err) });
    });
    this.consumer.on('processing_error', (err) => this.log.error('processing error', { error: String(err) }));
  }

  start(): void {
    this.stats.running = true;
    this.consumer.start();
    this.log.info('worker started', { queueUrl: this.opts.queueUrl, device: this.opts.scorer.device, model: this.opts.scorer.architecture });
  }

  status(): WorkerStats & { settings: WorkerRunSettings } {
    return { ...this.stats, draining: this.draining, settings: { ...this.settings } };
  }

  /**
   * Graceful stop (SIGTERM): take no new work, let the batch in hand finish until the deadline,
   * then abort it and release its messages (visibility 0) so another worker takes them at once.
   */
  async stop(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const deadlineMs = this.drainSeconds() * 1000;
    // A batch that, at the pace of the last ones, cannot finish within the drain is released now:
    // holding it to the deadline would only delay the worker that will do it.
    const expectedMs = this.settings.batchMs === undefined || !this.current ? undefined : this.batchStartedAt + this.settings.batchMs - Date.now();
    const hopeless = expectedMs !== undefined && expectedMs > deadlineMs;
    this.log.info('worker stopping', { inFlight: this.stats.inFlight, deadlineMs, expectedMs: expectedMs === undefined ? undefined : Math.round(expectedMs), releaseNow: hopeless });
    // No abort of the pending long poll: an aborted ReceiveMessage can still take messages on the
    // server side (they would stay hidden for a visibility timeout and lose a receive count).
    // Instead the poll completes (<= waitTimeSeconds) and whatever it brings is released at once.
    const stopped = new Promise<void>((resolve) => this.consumer.once('stopped', () => resolve()));
    this.consumer.stop();
    if (this.current) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((res) => (timer = setTimeout(() => res('expired'), hopeless ? 0 : deadlineMs)));
      const r = await Promise.race([this.current.then(() => 'done' as const, () => 'done' as const), expired]);
      clearTimeout(timer);
      if (r === 'expired') {
        this.workAbort.abort();
        await this.current.catch(() => undefined);
      }
    }
    await stopped;
    this.stats.running = false;
    this.log.info('worker stopped', this.status() as unknown as Record<string, unknown>);
  }

  /**
   * Test hook: die like a killed process (no ack, no release, no more heartbeats). The messages
   * in hand come back when their visibility times out.
   */
  crash(): void {
    this.crashed = true;
    this.draining = true;
    this.crashAbort.abort();
    this.workAbort.abort();
    this.consumer.stop({ abort: true });
    this.stats.running = false;
  }

  private drainSeconds(): number {
    return this.opts.stopTimeoutSeconds ?? this.drainFallbackSeconds;
  }

  private async track<T>(p: Promise<T>): Promise<T> {
    this.current = p;
    this.batchStartedAt = Date.now();
    try {
      return await p;
    } finally {
      this.current = undefined;
    }
  }

  private async handleBatch(messages: Message[]): Promise<Message[]> {
    this.stats.received += messages.length;
    if (this.draining) {
      await this.release(messages, 0);
      return [];
    }
    this.stats.inFlight = messages.length;
    const ack: Message[] = [];
    const jobs: { m: Message; job: ClipJob }[] = [];
    const poison: Message[] = [];
    for (const m of messages) {
      const job = parseJob(m.Body);
      if (job.ok) jobs.push({ m, job: job.job });
      else {
        this.stats.poison++;
        poison.push(m);
        this.log.error('poison message: not a clip job (it goes to the DLQ after the max receive count)', {
          messageId: m.MessageId,
          receiveCount: m.Attributes?.ApproximateReceiveCount,
          problem: job.error,
        });
      }
    }
    // Poison messages are released at once, so they reach the DLQ quickly and stop costing polls.
    if (poison.length > 0) await this.release(poison, 0);

    const signal = this.workAbort.signal;
    const work = Promise.all(jobs.map(async ({ m, job }) => ({ m, job, outcome: await processClip(this.clipDeps, job, signal) })));
    const crashed = new Promise<never>((_, reject) =>
      this.crashAbort.signal.addEventListener('abort', () => reject(new Error('worker crashed (simulated)')), { once: true }),
    );
    crashed.catch(() => undefined);
    const results = await Promise.race([work, crashed]);
    if (jobs.length > 0 && !signal.aborted) {
      // Mean of recent batches (exponential, recent ones weigh more): the pace a stop judges by.
      const ms = Date.now() - this.batchStartedAt;
      this.settings.batchMs = this.settings.batchMs === undefined ? ms : Math.round(0.5 * this.settings.batchMs + 0.5 * ms);
    }
    const retry: Message[] = [];
    for (const { m, job, outcome } of results) {
      this.count(outcome);
      if (outcome.kind === 'retry') {
        retry.push(m);
        this.log.warn('clip will be retried', {
          videoId: job.videoId,
          clip: job.clip.index,
          receiveCount: m.Attributes?.ApproximateReceiveCount,
          error: outcome.error instanceof Error ? outcome.error.message : String(outcome.error),
        });
      } else {
        if (outcome.kind === 'stale') this.log.info('clip skipped', { videoId: job.videoId, clip: job.clip.index, why: outcome.why });
        ack.push(m);
      }
    }
    if (retry.length > 0 && !this.crashed) {
      // Released (aborted by stop) now; otherwise back off by receive count before the next try.
      const receives = Math.max(...retry.map((m) => Number(m.Attributes?.ApproximateReceiveCount ?? '1')));
      const delay = this.opts.retryDelaySeconds ?? ((n: number) => Math.min(60, 2 ** n));
      await this.release(retry, signal.aborted ? 0 : Math.max(0, Math.round(delay(receives))));
    }
    this.stats.inFlight = 0;
    return ack;
  }

  private count(o: ClipOutcome): void {
    if (o.kind === 'done') {
      this.stats.done++;
      if (o.assembled) this.stats.assembled++;
    } else if (o.kind === 'failed') this.stats.failed++;
    else if (o.kind === 'retry') this.stats.retried++;
    else this.stats.stale++;
  }

  private async release(messages: Message[], seconds: number): Promise<void> {
    try {
      await this.opts.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.opts.queueUrl,
          Entries: messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: seconds })),
        }),
      );
    } catch (e) {
      // Not fatal: the messages come back anyway when their visibility expires.
      this.log.warn('could not release messages', { error: String(e), count: messages.length });
    }
  }
}

function parseJob(body: string | undefined): { ok: true; job: ClipJob } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch (e) {
    return { ok: false, error: `malformed JSON: ${(e as Error).message}` };
  }
  const r = ClipJobSchema.safeParse(json);
  return r.success ? { ok: true, job: r.data } : { ok: false, error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
}
