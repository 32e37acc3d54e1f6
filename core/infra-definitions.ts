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

export const CLIP_QUEUE_DEFINITION: QueueDefinition = {
  name: QUEUES.clips,
  visibilityTimeoutSeconds: DEFAULTS.visibilityTimeoutSeconds,
  receiveWaitSeconds: 20,
  retentionSeconds: 4 * 24 * 3600,
  redrive: { deadLetterQueue: QUEUES.clipsDeadLetter, maxReceiveCount: DEFAULTS.maxReceiveCount },
};

export const CLIP_DLQ_DEFINITION: QueueDefinition = {
  name: QUEUES.clipsDeadLetter,
  visibilityTimeoutSeconds: DEFAULTS.visibilityTimeoutSeconds,
  receiveWaitSeconds: 0,
  retentionSeconds: 14 * 24 * 3600,
};
