/**
 * Resource definitions shared by the CDK app and the local stack (`vidx local`), so both create
 * the same queues and agree on the index's tunables. Plain data: the CDK app maps it onto
 * constructs, the local stack onto CreateQueue calls. Names come from core/names.ts.
 */
import { DEFAULTS, QUEUES } from './names.ts';

/**
 * The index's tunables the deployment and the processes must agree on (the table layout itself is
 * its adapter's: adapters/dynamo-index/layout.ts).
 */
export const INDEX_DEFAULTS = {
  /**
   * Write shards per label in the search index: a label's segments spread over this many
   * partitions (by video id), and a search reads them all. May grow on a live table (searches read
   * every shard up to it), never shrink. See README "Scale".
   */
  labelShards: 8,
} as const;

export interface QueueDefinition {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  /** Long polling on the queue itself (ReceiveMessageWaitTimeSeconds). */
  readonly receiveWaitSeconds: number;
  readonly retentionSeconds: number;
  /** Redrive into the dead-letter queue after this many receives; absent on the DLQ. */
  readonly redrive?: { readonly deadLetterQueue: string; readonly maxReceiveCount: number };
}

/** SQS's longest retention: a burst of clip jobs waits up to 14 days for workers (README "Scaling"). */
export const MAX_QUEUE_RETENTION_SECONDS = 14 * 24 * 3600;

export const CLIP_QUEUE_DEFINITION: QueueDefinition = {
  name: QUEUES.clips,
  visibilityTimeoutSeconds: DEFAULTS.visibilityTimeoutSeconds,
  receiveWaitSeconds: 20,
  retentionSeconds: MAX_QUEUE_RETENTION_SECONDS,
  redrive: { deadLetterQueue: QUEUES.clipsDeadLetter, maxReceiveCount: DEFAULTS.maxReceiveCount },
};

export const CLIP_DLQ_DEFINITION: QueueDefinition = {
  name: QUEUES.clipsDeadLetter,
  visibilityTimeoutSeconds: DEFAULTS.visibilityTimeoutSeconds,
  receiveWaitSeconds: 0,
  retentionSeconds: MAX_QUEUE_RETENTION_SECONDS,
};

/** Thumbnail jobs: one per indexed revision, taken by a CPU consumer (core/pipeline/thumbnail-job.ts). */
export const THUMBNAIL_QUEUE_DEFINITION: QueueDefinition = {
  name: QUEUES.thumbnails,
  // A job cuts up to 300 frames (about a minute of seeks): well inside this.
  visibilityTimeoutSeconds: 6 * DEFAULTS.thumbnailTimeoutSeconds,
  receiveWaitSeconds: 20,
  retentionSeconds: MAX_QUEUE_RETENTION_SECONDS,
  redrive: { deadLetterQueue: QUEUES.thumbnailsDeadLetter, maxReceiveCount: DEFAULTS.maxReceiveCount },
};

export const THUMBNAIL_DLQ_DEFINITION: QueueDefinition = {
  name: QUEUES.thumbnailsDeadLetter,
  visibilityTimeoutSeconds: 6 * DEFAULTS.thumbnailTimeoutSeconds,
  receiveWaitSeconds: 0,
  retentionSeconds: MAX_QUEUE_RETENTION_SECONDS,
};

/**
 * The deployed intake: S3 upload events wait here for the segmenter (cdk/constructs/segmenter.ts).
 * `vidx local` delivers its events to the segmenter directly and creates no intake queue.
 */
export const INTAKE_QUEUE_DEFINITION: QueueDefinition = {
  name: QUEUES.intake,
  // Six times the segmenter's timeout (AWS's advice for a Lambda event source): a slow run keeps its events.
  visibilityTimeoutSeconds: 6 * DEFAULTS.segmenterTimeoutSeconds,
  receiveWaitSeconds: 0,
  retentionSeconds: MAX_QUEUE_RETENTION_SECONDS,
  redrive: { deadLetterQueue: QUEUES.intakeDeadLetter, maxReceiveCount: DEFAULTS.intakeMaxReceiveCount },
};

export const INTAKE_DLQ_DEFINITION: QueueDefinition = {
  name: QUEUES.intakeDeadLetter,
  visibilityTimeoutSeconds: 6 * DEFAULTS.segmenterTimeoutSeconds,
  receiveWaitSeconds: 0,
  retentionSeconds: MAX_QUEUE_RETENTION_SECONDS,
};
