import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CLIP_DLQ_DEFINITION, CLIP_QUEUE_DEFINITION } from '../../core/infra-definitions.ts';

export interface ClipQueueProps {
  readonly maxReceiveCount: number;
  /** Must exceed the worker's heartbeat (it extends visibility every heartbeat) and its stop timeout. */
  readonly visibilityTimeoutSeconds: number;
}

/** One SQS message per clip, with a dead-letter queue after maxReceiveCount receives. SSE-SQS, TLS only. */
export class ClipQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ClipQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetter', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(CLIP_DLQ_DEFINITION.retentionSeconds),
    });
    this.queue = new sqs.Queue(this, 'Clips', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.visibilityTimeoutSeconds),
      receiveMessageWaitTime: Duration.seconds(CLIP_QUEUE_DEFINITION.receiveWaitSeconds),
      retentionPeriod: Duration.seconds(CLIP_QUEUE_DEFINITION.retentionSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
