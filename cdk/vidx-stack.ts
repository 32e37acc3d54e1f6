import { Annotations, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV, THUMBNAIL_PREFIX } from '../core/names.ts';
import { CURSOR_SECRET_ENV } from '../core/query/cursor.ts';
import type { VidxConfig } from './config.ts';
import { ClipQueue } from './constructs/clip-queue.ts';
import { FFPROBE_LAYER_PATH, FfprobeLayer } from './constructs/ffprobe-layer.ts';
import { GpuCapacity } from './constructs/gpu-capacity.ts';
import { GpuWorkerService } from './constructs/gpu-worker-service.ts';
import { IndexTable } from './constructs/index-table.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { NodeFunction } from './constructs/node-function.ts';
import { Sweeper } from './constructs/sweeper.ts';
import { QueryApi } from './constructs/query-api.ts';
import { VideoBucket } from './constructs/video-bucket.ts';
import { WorkerScaling } from './constructs/worker-scaling.ts';
import { VideoEvents } from './constructs/video-events.ts';
import { WebSite } from './constructs/web-site.ts';
import { segmenterManifest } from './model-manifest.ts';
import { PATHS } from './paths.ts';
import { acknowledge, logicalIdOf } from './nag.ts';

export interface VidxStackProps extends StackProps {
  readonly config: VidxConfig;
}

/** Where a Lambda's bundle lies at run time, and the manifest's name in the segmenter's bundle. */
const LAMBDA_TASK_ROOT = '/var/task';
export const MODEL_MANIFEST_FILE = 'model-manifest.json';

/**
 * Actions each piece of code calls, and nothing else: core/aws/index-store.ts (segmenter:
 * getVideo, beginRevision, markEnqueued, deleteDerived = Query + BatchWriteItem; worker: the same
 * plus putClip, getClip, addDoneClip, clipsOf, batchWrite), core/aws/index-reader.ts (query), sqs-consumer.
 */
export const ACTIONS = {
  readVideo: ['s3:GetObject'], // GetObject, HeadObject and the presigned GET ffprobe/ffmpeg read
  enqueueClips: ['sqs:SendMessage'], // SendMessageBatch is authorized as SendMessage
  // Batch variants (DeleteMessageBatch, ChangeMessageVisibilityBatch) are authorized as these.
  consumeClips: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
  segmenterTable: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
  workerTable: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
  queryTable: ['dynamodb:GetItem', 'dynamodb:Query'],
  queryIndex: ['dynamodb:Query'],
  uploadVideo: ['s3:PutObject'], // the query API signs upload PUTs under the video prefix
  writeThumbnails: ['s3:PutObject'], // one JPEG per segment under the thumbnail prefix
} as const;

/** Everything vidx runs on in AWS: see issue 5 and the README's Deploy section. */
export class VidxStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly clips: ClipQueue;
  readonly index: IndexTable;
  readonly segmenter: NodeFunction;
  readonly query: NodeFunction;
  readonly worker: GpuWorkerService;
  readonly scaling: WorkerScaling;
  readonly api: QueryApi;
  readonly sweeper: Sweeper;
  readonly monitoring: Monitoring;
  readonly events: VideoEvents;

  constructor(scope: Construct, id: string, props: VidxStackProps) {
    super(scope, id, props);
    const config = props.config;
    const architecture = config.lambdaArchitecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;

    // --- data -------------------------------------------------------------------------------
    const storage = new VideoBucket(this, 'Storage', {
      corsAllowedOrigins: config.corsAllowedOrigins,
      retainData: config.retainData,
    });
    this.bucket = storage.bucket;
    this.index = new IndexTable(this, 'Index', { retainData: config.retainData });
    this.clips = new ClipQueue(this, 'ClipQueue', {
      maxReceiveCount: config.maxReceiveCount,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    });
    const videosArn = this.bucket.arnForObjects(`${config.videoPrefix}*`);
    const table = this.index.table;

    // --- segmenter: S3 event -> probe -> clip messages ---------------------------------------
    const segmenterFailures = new sqs.Queue(this, 'SegmenterFailures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(segmenterFailures, {
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the segmenter\'s asynchronous invocations.',
    });
    // Done/failed events: published by the segmenter (failures) and the workers.
    this.events = new VideoEvents(this, 'Events', { webhookUrl: config.webhookUrl });
    const ffprobe = new FfprobeLayer(this, 'Ffprobe', { architecture });
    const manifest = segmenterManifest(config.model, config.modelManifest);
    if (manifest.origin === 'generated') {
      Annotations.of(this).addWarningV2(
        'vidx:segmenter-manifest',
        `the segmenter gets a generated ${config.model} manifest with trained: false; run \`npx vidx models pull ${config.model}\` before deploying so it bundles the converted checkpoint's manifest (the README's Deploy section)`,
      );
    }
    this.segmenter = new NodeFunction(this, 'Segmenter', {
      entry: PATHS.segmenterEntry,
      description: 'vidx segmenter: probe an uploaded video, plan clips, enqueue them',
      architecture,
      memorySize: 1024, // ffprobe over a presigned URL and JSON parsing; more memory = more CPU
      timeout: Duration.minutes(2),
      logRetentionDays: config.logRetentionDays,
      reservedConcurrentExecutions: config.segmenterReservedConcurrency || undefined,
      layers: [ffprobe.layer],
      deadLetterQueue: segmenterFailures,
      copyBesideBundle: { [manifest.path]: MODEL_MANIFEST_FILE },
      environment: {
        [ENV.table]: table.tableName,
        [ENV.bucket]: this.bucket.bucketName,
        [ENV.queueUrl]: this.clips.queue.queueUrl,
        [ENV.videoPrefix]: config.videoPrefix,
        [ENV.clipSeconds]: String(config.clipSeconds),
        [ENV.model]: `${LAMBDA_TASK_ROOT}/${MODEL_MANIFEST_FILE}`,
        [ENV.ffprobe]: FFPROBE_LAYER_PATH,
        ...this.events.environment(),
        POWERTOOLS_SERVICE_NAME: 'vidx-segmenter',
      },
    });
    this.segmenter.fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });
    this.segmenter.role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.readVideo], resources: [videosArn] }));
    this.segmenter.role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.enqueueClips], resources: [this.clips.queue.queueArn] }));
    this.segmenter.role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.segmenterTable], resources: [table.tableArn] }));
    this.events.grantPublish(this.segmenter.role);
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.segmenter.fn), {
      prefix: config.videoPrefix,
    });

    // --- sweeper: unfinished videos whose clip jobs were lost ---------------------------------
    this.sweeper = new Sweeper(this, 'Sweeper', {
      architecture,
      logRetentionDays: config.logRetentionDays,
      index: this.index,
      queue: this.clips.queue,
      videosArn,
      everyMinutes: config.sweepEveryMinutes,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      maxReceiveCount: config.maxReceiveCount,
      maxRequeues: config.maxRequeues,
    });

    // --- query Lambda + HTTP API ------------------------------------------------------------
    // The key that signs pagination cursors (core/query/cursor.ts): generated once, stable across
    // deploys, resolved by CloudFormation into the function's environment (never in the template).
    const cursorSecret = new secretsmanager.Secret(this, 'CursorSecret', {
      description: 'vidx query API: HMAC key of pagination cursors',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    acknowledge(cursorSecret, {
      id: 'AwsSolutions-SMG4',
      reason: 'Signs pagination cursors only; rotating it would just invalidate open cursors, and the function reads it at deploy time, not at run time.',
    });
    this.query = new NodeFunction(this, 'Query', {
      entry: PATHS.queryEntry,
      description: 'vidx query API: actions, search, videos, timelines',
      architecture,
      memorySize: 512,
      timeout: Duration.seconds(10),
      logRetentionDays: config.logRetentionDays,
      reservedConcurrentExecutions: config.queryReservedConcurrency || undefined,
      copyBesideBundle: { [PATHS.labels]: 'kinetics400_labels.txt' },
      environment: {
        [ENV.table]: table.tableName,
        [CURSOR_SECRET_ENV]: cursorSecret.secretValue.unsafeUnwrap(), // a {{resolve:secretsmanager}} reference
        [ENV.bucket]: this.bucket.bucketName, // media routes: presigned video/thumbnail GETs, upload PUTs
        [ENV.videoPrefix]: config.videoPrefix,
        POWERTOOLS_SERVICE_NAME: 'vidx-query',
      },
    });
    // The presigned URLs act with these rights: read videos and thumbnails, put new videos.
    this.query.role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.readVideo], resources: [videosArn, this.bucket.arnForObjects(`${THUMBNAIL_PREFIX}*`)] }));
    this.query.role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.uploadVideo], resources: [videosArn] }));
    this.query.role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.queryTable], resources: [table.tableArn] }));
    this.query.role.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.queryIndex], resources: [this.index.labelIndexArn] }));
    const web = config.web ? new WebSite(this, 'Web', { logBucket: storage.accessLogs, domainPrefix: config.webDomainPrefix ?? `${config.stackName.toLowerCase()}-${this.account}`, retainData: config.retainData }) : undefined;
    const origins = [...config.corsAllowedOrigins, ...(web ? [web.origin] : [])];
    if (web) this.bucket.addCorsRule({ allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.PUT], allowedOrigins: [web.origin], allowedHeaders: ['*'], exposedHeaders: ['ETag'], maxAge: 3000 });
    this.api = new QueryApi(this, 'QueryApi', {
      handler: this.query.fn,
      authorizer: web ? web.authorizer : config.authorizer,
      throttle: { rateLimit: config.apiThrottleRateLimit, burstLimit: config.apiThrottleBurstLimit },
      corsAllowedOrigins: origins,
      logRetentionDays: config.logRetentionDays,
    });
    web?.deployPage(this.api.url);

    // --- GPU workers --------------------------------------------------------------------------
    const vpc = new ec2.Vpc(this, 'Network', {
      maxAzs: config.maxAzs,
      natGateways: config.natGateways,
      subnetConfiguration:
        config.natGateways > 0
          ? [
              { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
              { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
            ]
          : [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 20 }],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    const flowLogs = new logs.LogGroup(this, 'NetworkFlowLogs', { retention: config.logRetentionDays as logs.RetentionDays }); // numeric enum of days
    vpc.addFlowLog('RejectedTraffic', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    const capacity = new GpuCapacity(this, 'GpuCapacity', {
      vpc,
      subnets: { subnetType: config.natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PUBLIC },
      instanceTypes: config.workerInstanceTypes,
      spot: config.workerSpot,
      maxInstances: config.workerMaxTasks,
      rootVolumeGiB: config.workerRootVolumeGiB,
    });
    this.worker = new GpuWorkerService(this, 'Worker', {
      capacity,
      cpu: config.workerCpu,
      memoryReservationMiB: config.workerMemoryReservationMiB,
      stopTimeoutSeconds: config.stopTimeoutSeconds,
      healthPort: config.workerHealthPort,
      model: config.model,
      modelSource: config.modelSource,
      modelZooUrl: config.modelZooUrl,
      logRetentionDays: config.logRetentionDays,
      environment: {
        [ENV.table]: table.tableName,
        [ENV.bucket]: this.bucket.bucketName,
        [ENV.queueUrl]: this.clips.queue.queueUrl,
        [ENV.videoPrefix]: config.videoPrefix,
        ...this.events.environment(),
        [ENV.visibilityTimeoutSeconds]: String(config.visibilityTimeoutSeconds),
        [ENV.heartbeatSeconds]: String(config.heartbeatSeconds),
        [ENV.stopTimeoutSeconds]: String(config.stopTimeoutSeconds),
        // VIDX_MODEL comes from the image: the manifest its build wrote to /models.
      },
    });
    const taskRole = this.worker.taskRole;
    taskRole.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.readVideo], resources: [videosArn] }));
    taskRole.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.consumeClips], resources: [this.clips.queue.queueArn] }));
    taskRole.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.writeThumbnails], resources: [this.bucket.arnForObjects(`${THUMBNAIL_PREFIX}*`)] }));
    taskRole.addToPolicy(
      // The worker never reads the label index (only the query API does).
      new iam.PolicyStatement({ actions: [...ACTIONS.workerTable], resources: [table.tableArn] }),
    );
    this.events.grantPublish(taskRole);
    this.scaling = new WorkerScaling(this, 'WorkerScaling', {
      cluster: capacity.cluster,
      service: this.worker.service,
      queue: this.clips.queue,
      maxTasks: config.workerMaxTasks,
      backlogPerTask: config.backlogPerTask,
      scaleToZeroAfterMinutes: config.scaleToZeroAfterMinutes,
    });

    // --- operations ---------------------------------------------------------------------------
    this.monitoring = new Monitoring(this, 'Monitoring', {
      clipQueue: this.clips.queue,
      clipDeadLetterQueue: this.clips.deadLetterQueue,
      segmenterDeadLetterQueue: segmenterFailures,
      functions: [
        { name: 'Segmenter', fn: this.segmenter.fn },
        { name: 'Query', fn: this.query.fn },
        { name: 'Sweeper', fn: this.sweeper.fn.fn },
      ],
      workerLogGroup: this.worker.logGroup,
      workerErrorThreshold: config.workerErrorAlarmThreshold,
      oldestMessageAlarmSeconds: config.oldestMessageAlarmSeconds,
      api: this.api.api,
      backlogPerTask: this.scaling.backlogPerTask,
      runningTasks: this.scaling.runningTasks,
      alarmEmail: config.alarmEmail,
    });

    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName, description: `Upload videos under s3://<bucket>/${config.videoPrefix}` });
    new CfnOutput(this, 'VideoPrefix', { value: config.videoPrefix, description: 'Objects under this prefix are indexed (vidx upload --stack reads it)' });
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Query API (SigV4-signed requests, service execute-api)' });
    new CfnOutput(this, 'QueueUrl', { value: this.clips.queue.queueUrl, description: 'Clip job queue' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.clips.deadLetterQueue.queueUrl, description: 'Clips that failed maxReceiveCount times' });
    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'Index table' });
    new CfnOutput(this, 'WorkerLogGroup', { value: this.worker.logGroup.logGroupName, description: 'GPU worker logs' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName, description: 'CloudWatch dashboard' });
    if (web) new CfnOutput(this, 'WebUrl', { value: `${web.origin}/`, description: 'The web page (sign in with a user of WebUserPoolId)' });
    if (web) new CfnOutput(this, 'WebUserPoolId', { value: web.userPool.userPoolId, description: 'Invite people: aws cognito-idp admin-create-user --user-pool-id <id> --username <email>' });
    new CfnOutput(this, 'EventTopicArn', { value: this.events.topic.topicArn, description: 'Done/failed video events (SNS): subscribe to them' });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName, description: 'Done/failed video events (EventBridge, source "vidx")' });
    new CfnOutput(this, 'WebhookSecretArn', { value: this.events.webhookSecret.secretArn, description: 'HMAC key of webhook signatures (give it to the receiver)' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'Subscribe to receive alarms' });

    this.acknowledgeFindings(config);
  }

  /** Findings on grants and on resources that aws-cdk-lib creates itself, each with its reason. */
  private acknowledgeFindings(config: VidxConfig): void {
    const videoObjects = {
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(this.bucket)}.Arn>/${config.videoPrefix}*]`,
      reason: 'Reads any uploaded video under the video prefix (object keys are chosen by users); nothing else in the bucket.',
    };
    acknowledge(this.segmenter.role, videoObjects);
    const thumbnailObjects = {
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(this.bucket)}.Arn>/${THUMBNAIL_PREFIX}*]`,
      reason: 'Segment thumbnails: one object per segment under the thumbnail prefix (written by the worker, signed for reading by the query API); nothing else in the bucket.',
    };
    acknowledge(this.worker.taskRole, videoObjects, thumbnailObjects);
    acknowledge(this.query.role, videoObjects, thumbnailObjects);
    acknowledge(this.sweeper.fn.role, videoObjects);
    const notifications = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notifications) {
      acknowledge(notifications, {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'aws-cdk-lib\'s bucket-notification custom resource (configures the S3 -> segmenter notification once at deploy) uses the basic execution managed policy.',
      });
    }
  }
}
