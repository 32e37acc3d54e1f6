import { Annotations, type CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Analysis } from '../../core/detection/analyses.ts';
import { environmentOf } from '../../core/settings/define.ts';
import { SEGMENTER_SETTINGS } from '../../core/settings/processes.ts';
import { ACTIONS } from '../actions.ts';
import type { SegmenterManifest } from '../model-manifest.ts';
import { acknowledge } from '../nag.ts';
import { PATHS } from '../paths.ts';
import { FFPROBE_LAYER_PATH } from './ffprobe-layer.ts';
import { IndexTable } from './index-table.ts';
import { NodeFunction } from './node-function.ts';
import type { VideoEvents } from './video-events.ts';

/** Where a Lambda's bundle lies at run time, and the manifest's name in the segmenter's bundle. */
const LAMBDA_TASK_ROOT = '/var/task';
export const MODEL_MANIFEST_FILE = 'model-manifest.json';

/**
 * The logical id the segmenter's dead-letter queue had before this construct existed (when the
 * stack created it directly): a new id would make CloudFormation replace the queue and drop the
 * failed invocations it holds.
 */
const FAILURES_LOGICAL_ID = 'SegmenterFailures04E9BCF3';

export interface SegmenterProps {
  readonly architecture: lambda.Architecture;
  /** FfprobeLayer of the same architecture: ffprobe at FFPROBE_LAYER_PATH. */
  readonly ffprobe: lambda.ILayerVersion;
  readonly logRetentionDays: number;
  /** Cap on concurrent runs (undefined: none), so a bulk upload cannot starve the account. */
  readonly reservedConcurrentExecutions?: number;
  readonly bucket: s3.IBucket;
  /** Uploads under this prefix invoke the segmenter. */
  readonly videoPrefix: string;
  readonly clipSeconds: number;
  /** What the workers find; detection plans keyframes per clip, this many seconds apart. */
  readonly analyses: readonly Analysis[];
  readonly keyframeInterval: number;
  readonly index: IndexTable;
  readonly clipQueue: sqs.IQueue;
  readonly events: VideoEvents;
  /** The model manifest bundled beside the handler (cdk/model-manifest.ts resolves it). */
  readonly manifest: SegmenterManifest;
}

/**
 * S3 upload event -> probe (ffprobe from a layer) -> clip messages. Invoked asynchronously by the
 * bucket notification; invocations that fail after the retries land in `failures`.
 */
export class Segmenter extends Construct {
  readonly fn: NodeFunction;
  /** Dead-letter queue of the asynchronous invocations (alarmed on by Monitoring). */
  readonly failures: sqs.Queue;

  constructor(scope: Construct, id: string, props: SegmenterProps) {
    super(scope, id);
    this.failures = new sqs.Queue(this, 'Failures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    (this.failures.node.defaultChild as CfnResource).overrideLogicalId(FAILURES_LOGICAL_ID);
    acknowledge(this.failures, {
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the segmenter\'s asynchronous invocations.',
    });

    const manifest = props.manifest;
    if (manifest.origin === 'generated') {
      // On the stack, where `cdk synth` prints it beside the other stack-level findings.
      Annotations.of(Stack.of(this)).addWarningV2(
        'vidx:segmenter-manifest',
        `the segmenter gets a generated ${manifest.model} manifest with trained: false; run \`npx vidx models pull ${manifest.model}\` and set modelManifest=pulled before deploying so it bundles the converted checkpoint's manifest (the README's Deploy section)`,
      );
    }
    const videosArn = props.bucket.arnForObjects(`${props.videoPrefix}*`);
    this.fn = new NodeFunction(this, 'Segmenter', {
      entry: PATHS.segmenterEntry,
      description: 'vidx segmenter: probe an uploaded video, plan clips, enqueue them',
      architecture: props.architecture,
      memorySize: 1024, // ffprobe over a presigned URL and JSON parsing; more memory = more CPU
      timeout: Duration.minutes(2),
      logRetentionDays: props.logRetentionDays,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      layers: [props.ffprobe],
      deadLetterQueue: this.failures,
      copyBesideBundle: { [manifest.path]: MODEL_MANIFEST_FILE },
      environment: {
        ...environmentOf(SEGMENTER_SETTINGS, {
          tableName: props.index.table.tableName,
          labelShards: props.index.labelShards,
          queueUrl: props.clipQueue.queueUrl,
          videoPrefix: props.videoPrefix,
          clipSeconds: props.clipSeconds,
          analyses: [...props.analyses],
          keyframeInterval: props.keyframeInterval,
          model: `${LAMBDA_TASK_ROOT}/${MODEL_MANIFEST_FILE}`,
          ffprobe: FFPROBE_LAYER_PATH,
          ...props.events.settings(),
        }),
        POWERTOOLS_SERVICE_NAME: 'vidx-segmenter',
      },
    });
    // Retries cover throttling and transient faults; an event older than 6 h is not worth planning.
    this.fn.fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });
    const role = this.fn.role;
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.readVideo], resources: [videosArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.enqueueClips], resources: [props.clipQueue.queueArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.segmenterTable], resources: [props.index.table.tableArn] }));
    // A replaced or failed revision's large clip payloads are removed with its clip results.
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.removeClipPayloads], resources: [IndexTable.payloadObjects(props.bucket)] }));
    props.events.grantPublish(role);
    props.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.fn.fn), {
      prefix: props.videoPrefix,
    });
  }
}
