import { type CfnResource, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { THUMBNAIL_PREFIX } from '../../core/names.ts';
import { environmentOf } from '../../core/settings/define.ts';
import { QUERY_SETTINGS } from '../../core/settings/processes.ts';
import { ACTIONS } from '../actions.ts';
import { acknowledge } from '../nag.ts';
import { PATHS } from '../paths.ts';
import { IndexTable } from './index-table.ts';
import { NodeFunction } from './node-function.ts';

/**
 * The logical id the cursor key had when the stack created it directly: a new id would replace
 * the secret, generate a new key and invalidate every open cursor on the next deploy.
 */
const CURSOR_SECRET_LOGICAL_ID = 'CursorSecretABAE1358';

export interface QueryFunctionProps {
  readonly architecture: lambda.Architecture;
  readonly logRetentionDays: number;
  readonly reservedConcurrentExecutions?: number;
  readonly index: IndexTable;
  readonly bucket: s3.IBucket;
  readonly videoPrefix: string;
}

/**
 * The query API's Lambda (actions, search, videos, timelines, media and upload URLs) with the key
 * that signs its pagination cursors. The HTTP API in front of it is QueryApi.
 */
export class QueryFunction extends Construct {
  readonly fn: NodeFunction;

  constructor(scope: Construct, id: string, props: QueryFunctionProps) {
    super(scope, id);
    // The key that signs pagination cursors (core/query/cursor.ts): generated once, stable across
    // deploys, resolved by CloudFormation into the function's environment (never in the template).
    const cursorSecret = new secretsmanager.Secret(this, 'CursorSecret', {
      description: 'vidx query API: HMAC key of pagination cursors',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    (cursorSecret.node.defaultChild as CfnResource).overrideLogicalId(CURSOR_SECRET_LOGICAL_ID);
    acknowledge(cursorSecret, {
      id: 'AwsSolutions-SMG4',
      reason: 'Signs pagination cursors only; rotating it would just invalidate open cursors, and the function reads it at deploy time, not at run time.',
    });
    const videosArn = props.bucket.arnForObjects(`${props.videoPrefix}*`);
    this.fn = new NodeFunction(this, 'Query', {
      entry: PATHS.queryEntry,
      description: 'vidx query API: actions, search, videos, timelines',
      architecture: props.architecture,
      memorySize: 512,
      timeout: Duration.seconds(10),
      logRetentionDays: props.logRetentionDays,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      copyBesideBundle: { [PATHS.labels]: 'kinetics400_labels.txt', [PATHS.avaLabels]: 'ava_v2.2_labels.txt' },
      environment: {
        ...environmentOf(QUERY_SETTINGS, {
          tableName: props.index.table.tableName,
          labelShards: props.index.labelShards,
          cursorSecret: cursorSecret.secretValue.unsafeUnwrap(), // a {{resolve:secretsmanager}} reference
          bucket: props.bucket.bucketName, // media routes: presigned video/thumbnail GETs, upload PUTs
          videoPrefix: props.videoPrefix,
        }),
        POWERTOOLS_SERVICE_NAME: 'vidx-query',
      },
    });
    // The presigned URLs act with these rights: read videos and thumbnails, put new videos.
    const role = this.fn.role;
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.readVideo], resources: [videosArn, props.bucket.arnForObjects(`${THUMBNAIL_PREFIX}*`)] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.uploadVideo], resources: [videosArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.queryTable], resources: [props.index.table.tableArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.queryIndex], resources: [props.index.labelIndexArn] }));
    // Re-segmentation reads window scores that large clips keep in S3.
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.readClipPayloads], resources: [IndexTable.payloadObjects(props.bucket)] }));
  }
}
