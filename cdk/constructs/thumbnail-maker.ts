import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { THUMBNAIL_DLQ_DEFINITION, THUMBNAIL_QUEUE_DEFINITION } from '../../core/infra-definitions.ts';
import { DEFAULTS } from '../../core/names.ts';
import { environmentOf } from '../../core/settings/define.ts';
import { THUMBNAIL_SETTINGS } from '../../core/settings/processes.ts';
import { ACTIONS } from '../actions.ts';
import { acknowledge } from '../nag.ts';
import { PATHS } from '../paths.ts';
import { FFMPEG_LAYER_PATH } from './ffprobe-layer.ts';
import type { IndexTable } from './index-table.ts';
import { NodeFunction } from './node-function.ts';

export interface ThumbnailMakerProps {
  readonly architecture: lambda.Architecture;
  /** FfmpegLayer of the same architecture: ffmpeg at FFMPEG_LAYER_PATH. */
  readonly ffmpeg: lambda.ILayerVersion;
  readonly logRetentionDays: number;
  readonly index: IndexTable;
  /** ARN patterns of the uploaded videos (read) and of the thumbnails (written). */
  readonly videosArn: string;
  readonly thumbnailsArn: string;
  /** Large clip payloads (IndexTable.payloadObjects): a revision's window scores may be kept there. */
  readonly payloadsArn: string;
  /** Thumbnail Lambdas at once. */
  readonly maxConcurrency: number;
}

/** What the consumer's code calls (core/pipeline/thumbnail-job.ts over adapters/): getVideo, timelineOf, clipsOf (payloads in S3 too), setThumbnailTime, setCover. */
export const THUMBNAIL_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'] as const;

/**
 * Thumbnails off the GPU's critical path: the assembling worker sends one job per indexed
 * revision to `queue`; a CPU Lambda (ffmpeg from a layer) cuts the frames and sets the segments'
 * thumbAt. Failed jobs come back alone (ReportBatchItemFailures); after maxReceiveCount they wait
 * in `deadLetterQueue`.
 */
export class ThumbnailMaker extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly fn: NodeFunction;

  constructor(scope: Construct, id: string, props: ThumbnailMakerProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetter', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(THUMBNAIL_DLQ_DEFINITION.retentionSeconds),
    });
    acknowledge(this.deadLetterQueue, { id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the thumbnail jobs.' });
    this.queue = new sqs.Queue(this, 'Jobs', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(THUMBNAIL_QUEUE_DEFINITION.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(THUMBNAIL_QUEUE_DEFINITION.retentionSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: THUMBNAIL_QUEUE_DEFINITION.redrive!.maxReceiveCount },
    });
    this.fn = new NodeFunction(this, 'Thumbnails', {
      entry: PATHS.thumbnailsEntry,
      description: 'vidx thumbnails: cut the segment thumbnails of an indexed revision (CPU, off the GPU workers)',
      architecture: props.architecture,
      memorySize: 2048, // ffmpeg seeks and decodes: more memory = more vCPU
      timeout: Duration.seconds(DEFAULTS.thumbnailTimeoutSeconds),
      logRetentionDays: props.logRetentionDays,
      layers: [props.ffmpeg],
      environment: {
        ...environmentOf(THUMBNAIL_SETTINGS, { tableName: props.index.table.tableName, ffmpeg: FFMPEG_LAYER_PATH }),
        POWERTOOLS_SERVICE_NAME: 'vidx-thumbnails',
      },
    });
    // One job per run: a job is up to 300 seeks, and a failed one is retried alone.
    this.fn.fn.addEventSource(new eventSources.SqsEventSource(this.queue, { batchSize: 1, maxConcurrency: props.maxConcurrency, reportBatchItemFailures: true }));
    const role = this.fn.role;
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.readVideo], resources: [props.videosArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [props.thumbnailsArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.readClipPayloads], resources: [props.payloadsArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...THUMBNAIL_TABLE_ACTIONS], resources: [props.index.table.tableArn] }));
  }
}
