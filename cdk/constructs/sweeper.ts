import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { environmentOf } from '../../core/settings/define.ts';
import { SWEEPER_SETTINGS } from '../../core/settings/processes.ts';
import { staleAfterSeconds } from '../../core/pipeline/sweep.ts';
import { PATHS } from '../paths.ts';
import type { IndexTable } from './index-table.ts';
import { NodeFunction } from './node-function.ts';

export interface SweeperProps {
  readonly architecture: lambda.Architecture;
  readonly logRetentionDays: number;
  readonly index: IndexTable;
  readonly queue: sqs.IQueue;
  /** ARN pattern of the uploaded videos (HEAD to tell a deleted object). */
  readonly videosArn: string;
  /** The large clip payloads' objects (a failed video's are removed). */
  readonly payloadsArn: string;
  readonly everyMinutes: number;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly maxRequeues: number;
}

/** Actions the sweeper's code calls (core/pipeline/sweep.ts over adapters/). */
export const SWEEPER_ACTIONS = {
  // unfinishedBefore queries the sparse index of unfinished videos, then batch-gets their records;
  // claimRequeue/markFailed update the record; forgetDerived queries the video's partition and batch-deletes.
  table: ['dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:BatchGetItem'],
  index: ['dynamodb:Query'],
  queue: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
  videos: ['s3:GetObject'],
  payloads: ['s3:DeleteObject'],
} as const;

/** A scheduled Lambda that re-enqueues the missing clips of videos with no progress (or fails them). */
export class Sweeper extends Construct {
  readonly fn: NodeFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SweeperProps) {
    super(scope, id);
    this.fn = new NodeFunction(this, 'Sweeper', {
      entry: PATHS.sweeperEntry,
      description: 'vidx sweeper: finish or fail videos whose clip jobs were lost',
      architecture: props.architecture,
      memorySize: 256,
      timeout: Duration.minutes(2),
      logRetentionDays: props.logRetentionDays,
      // No reserved concurrency (it would take from the account's pool): rounds are minutes apart
      // and shorter than that, and two overlapping rounds only race for the same claims.
      environment: {
        ...environmentOf(SWEEPER_SETTINGS, {
          tableName: props.index.table.tableName,
          labelShards: props.index.labelShards,
          queueUrl: props.queue.queueUrl,
          staleAfterSeconds: staleAfterSeconds(props.visibilityTimeoutSeconds, props.maxReceiveCount),
          maxRequeues: props.maxRequeues,
        }),
        POWERTOOLS_SERVICE_NAME: 'vidx-sweeper',
      },
    });
    const role = this.fn.role;
    role.addToPolicy(new iam.PolicyStatement({ actions: [...SWEEPER_ACTIONS.table], resources: [props.index.table.tableArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...SWEEPER_ACTIONS.index], resources: [props.index.unfinishedIndexArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...SWEEPER_ACTIONS.queue], resources: [props.queue.queueArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...SWEEPER_ACTIONS.videos], resources: [props.videosArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...SWEEPER_ACTIONS.payloads], resources: [props.payloadsArn] }));
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'vidx: sweep unfinished videos',
      schedule: events.Schedule.rate(Duration.minutes(props.everyMinutes)),
      targets: [new targets.LambdaFunction(this.fn.fn, { retryAttempts: 0 })],
    });
  }
}
