import { Annotations, type CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INTAKE_DLQ_DEFINITION, INTAKE_QUEUE_DEFINITION } from '../../core/infra-definitions.ts';
import { DEFAULTS } from '../../core/names.ts';
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

/** Upload events per segmenter run (each is probed in parallel; a failed one is retried alone). */
export const INTAKE_BATCH_SIZE = 10;

/**
 * The logical id the segmenter's dead-letter queue had before this construct existed (when the
 * stack created it directly): a new id would make CloudFormation replace the queue and drop the
 * failed events it holds. It was the dead-letter queue of asynchronous invocations; it is now the
 * intake queue's.
 */
const FAILURES_LOGICAL_ID = 'SegmenterFailures04E9BCF3';

export interface SegmenterProps {
  readonly architecture: lambda.Architecture;
  /** FfprobeLayer of the same architecture: ffprobe at FFPROBE_LAYER_PATH. */
  readonly ffprobe: lambda.ILayerVersion;
  readonly logRetentionDays: number;
  /** Reserved concurrency (undefined: none); when set it must be at least maxConcurrency. */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Most segmenter runs the intake queue's event source mapping starts at once (2..1000): a bulk
   * upload waits in the queue (14 days) instead of starving the account or ageing out.
   */
  readonly maxConcurrency: number;
  /** Receives of an upload event before it goes to the dead-letter queue (`failures`). */
  readonly intakeMaxReceiveCount: number;
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

/** The segmenter's run time limit; the intake queue hides a received event for 6 times it (AWS's advice for Lambda). */
const SEGMENTER_TIMEOUT = Duration.seconds(DEFAULTS.segmenterTimeoutSeconds);

/**
 * S3 upload event -> intake queue -> probe (ffprobe from a layer) -> clip messages. The bucket
 * notifies an SQS queue, not the function: an event waits there (14 days) however long a burst
 * lasts, is received by an event source mapping that runs at most `maxConcurrency` segmenters,
 * is retried alone when its record fails (ReportBatchItemFailures: the handler returns the failed
 * message ids) and, after `intakeMaxReceiveCount` receives, waits in `failures` for a redrive
 * (README "Reliability").
 */
export class Segmenter extends Construct {
  readonly fn: NodeFunction;
  /** The upload events waiting for a segmenter (S3 sends them here). */
  readonly intake: sqs.Queue;
  /** Dead-letter queue of the intake queue (alarmed on by Monitoring; redriven by hand). */
  readonly failures: sqs.Queue;

  constructor(scope: Construct, id: string, props: SegmenterProps) {
    super(scope, id);
    this.failures = new sqs.Queue(this, 'Failures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(INTAKE_DLQ_DEFINITION.retentionSeconds),
    });
    (this.failures.node.defaultChild as CfnResource).overrideLogicalId(FAILURES_LOGICAL_ID);
    acknowledge(this.failures, {
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the intake queue (upload events the segmenter failed on maxReceiveCount times).',
    });
    this.intake = new sqs.Queue(this, 'Intake', {
      encryption: sqs.QueueEncryption.SQS_MANAGED, // S3 notifications can be sent to SSE-SQS queues
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(INTAKE_QUEUE_DEFINITION.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(INTAKE_QUEUE_DEFINITION.retentionSeconds),
      deadLetterQueue: { queue: this.failures, maxReceiveCount: props.intakeMaxReceiveCount },
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
      timeout: SEGMENTER_TIMEOUT,
      logRetentionDays: props.logRetentionDays,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      layers: [props.ffprobe],
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
    this.fn.fn.addEventSource(
      new eventSources.SqsEventSource(this.intake, {
        batchSize: INTAKE_BATCH_SIZE,
        maxConcurrency: props.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    const role = this.fn.role;
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.readVideo], resources: [videosArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.enqueueClips], resources: [props.clipQueue.queueArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.segmenterTable], resources: [props.index.table.tableArn] }));
    // A replaced or failed revision's large clip payloads are removed with its clip results.
    role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.removeClipPayloads], resources: [IndexTable.payloadObjects(props.bucket)] }));
    props.events.grantPublish(role);
    props.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.intake), {
      prefix: props.videoPrefix,
    });
  }
}
