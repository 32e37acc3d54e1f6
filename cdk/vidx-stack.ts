import { CfnOutput, Fn, Stack, Stage, Token, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DETECTION_MODELS } from '../core/detection/analyses.ts';
import { CLIP_PAYLOAD_PREFIX, DEFAULTS, THUMBNAIL_PREFIX, VECTOR_KEYS_PREFIX } from '../core/names.ts';
import { VectorIndex } from './constructs/vector-index.ts';
import { vectorDimensions } from './vector-dimensions.ts';
import { ACTIONS } from './actions.ts';
import type { VidxConfig } from './config.ts';
import { ClipQueue } from './constructs/clip-queue.ts';
import { FfmpegLayer, FfprobeLayer } from './constructs/ffprobe-layer.ts';
import { ThumbnailMaker } from './constructs/thumbnail-maker.ts';
import { GpuCapacity } from './constructs/gpu-capacity.ts';
import { GpuWorkerService, imageManifestPath } from './constructs/gpu-worker-service.ts';
import { IndexTable } from './constructs/index-table.ts';
import { Monitoring } from './constructs/monitoring.ts';
import type { NodeFunction } from './constructs/node-function.ts';
import { QueryApi } from './constructs/query-api.ts';
import { QueryFunction } from './constructs/query-function.ts';
import { Segmenter } from './constructs/segmenter.ts';
import { Sweeper } from './constructs/sweeper.ts';
import { VideoBucket } from './constructs/video-bucket.ts';
import { VideoEvents } from './constructs/video-events.ts';
import { WebSite } from './constructs/web-site.ts';
import { WorkerNetwork } from './constructs/worker-network.ts';
import { WorkerScaling } from './constructs/worker-scaling.ts';
import { segmenterManifest } from './model-manifest.ts';
import { acknowledge, logicalIdOf } from './nag.ts';

// Re-exported: the tests and tools read them from the stack module.
export { ACTIONS } from './actions.ts';
export { MODEL_MANIFEST_FILE } from './constructs/segmenter.ts';

export interface VidxStackProps extends StackProps {
  readonly config: VidxConfig;
}


/** Everything vidx runs on in AWS: see issue 5 and the README's Deploy section. */
export class VidxStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly clips: ClipQueue;
  readonly index: IndexTable;
  /** Moment vectors (S3 Vectors): written by the worker, read by the query API. */
  readonly vectors: VectorIndex;
  readonly segmenter: NodeFunction;
  readonly query: NodeFunction;
  readonly worker: GpuWorkerService;
  readonly scaling: WorkerScaling;
  readonly api: QueryApi;
  readonly sweeper: Sweeper;
  readonly monitoring: Monitoring;
  readonly events: VideoEvents;
  readonly intake: Segmenter;
  readonly thumbnailMaker: ThumbnailMaker;
  /** AZs the worker VPC spreads over (config.maxAzs): read by `availabilityZones` below. */
  private azCount = 2;

  /**
   * The AZs of the region, as many as config.maxAzs. An environment-agnostic stack gets only two
   * from CDK; GPU spot capacity needs more, so the rest are taken from Fn::GetAZs at deploy time
   * (a region must have that many AZs: set maxAzs lower for one that has fewer).
   */
  override get availabilityZones(): string[] {
    if (!Token.isUnresolved(this.region)) return super.availabilityZones.slice(0, this.azCount);
    return Array.from({ length: this.azCount }, (_, i) => Fn.select(i, Fn.getAzs()));
  }

  constructor(scope: Construct, id: string, props: VidxStackProps) {
    super(scope, id, props);
    const config = props.config;
    this.azCount = config.maxAzs;
    const architecture = config.lambdaArchitecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;

    // --- data -------------------------------------------------------------------------------
    const storage = new VideoBucket(this, 'Storage', {
      corsAllowedOrigins: config.corsAllowedOrigins,
      retainData: config.retainData,
    });
    this.bucket = storage.bucket;
    this.index = new IndexTable(this, 'Index', { retainData: config.retainData, labelShards: config.labelShards });
    this.clips = new ClipQueue(this, 'ClipQueue', {
      maxReceiveCount: config.maxReceiveCount,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    });
    const videosArn = this.bucket.arnForObjects(`${config.videoPrefix}*`);
    const table = this.index.table;

    // What the workers find; the segmenter plans detection keyframes into the clips it enqueues.
    const detect = config.analyses.includes('detect');

    // --- segmenter: S3 event -> probe -> clip messages ---------------------------------------
    // Done/failed events: published by the segmenter (failures) and the workers.
    this.events = new VideoEvents(this, 'Events', { webhookUrl: config.webhookUrl });
    const ffprobe = new FfprobeLayer(this, 'Ffprobe', { architecture });
    const segmenter = new Segmenter(this, 'Segmenter', {
      architecture,
      ffprobe: ffprobe.layer,
      logRetentionDays: config.logRetentionDays,
      reservedConcurrentExecutions: config.segmenterReservedConcurrency || undefined,
      maxConcurrency: config.segmenterMaxConcurrency,
      intakeMaxReceiveCount: config.intakeMaxReceiveCount,
      bucket: this.bucket,
      videoPrefix: config.videoPrefix,
      clipSeconds: config.clipSeconds,
      analyses: config.analyses,
      keyframeInterval: config.keyframeIntervalSeconds,
      index: this.index,
      clipQueue: this.clips.queue,
      events: this.events,
      manifest: segmenterManifest(config.model, config.modelManifest, { outdir: Stage.of(this)?.outdir }),
    });
    this.segmenter = segmenter.fn;
    this.intake = segmenter;

    // --- sweeper: unfinished videos whose clip jobs were lost ---------------------------------
    this.sweeper = new Sweeper(this, 'Sweeper', {
      architecture,
      logRetentionDays: config.logRetentionDays,
      index: this.index,
      queue: this.clips.queue,
      videosArn,
      payloadsArn: IndexTable.payloadObjects(this.bucket),
      everyMinutes: config.sweepEveryMinutes,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      maxReceiveCount: config.maxReceiveCount,
      maxRequeues: config.maxRequeues,
    });

    // --- vector index (moments by meaning) ------------------------------------------------------
    this.vectors = new VectorIndex(this, 'Vectors', { dimensions: vectorDimensions(config.model), manifestBucket: this.bucket, manifestPrefix: VECTOR_KEYS_PREFIX });

    // --- thumbnails: a CPU consumer, off the GPU workers' path ---------------------------------
    this.thumbnailMaker = new ThumbnailMaker(this, 'ThumbnailMaker', {
      architecture,
      ffmpeg: new FfmpegLayer(this, 'Ffmpeg', { architecture }).layer,
      logRetentionDays: config.logRetentionDays,
      index: this.index,
      videosArn,
      thumbnailsArn: this.bucket.arnForObjects(`${THUMBNAIL_PREFIX}*`),
      payloadsArn: IndexTable.payloadObjects(this.bucket),
      maxConcurrency: DEFAULTS.thumbnailMaxConcurrency,
    });

    // --- query Lambda + HTTP API ------------------------------------------------------------
    this.query = new QueryFunction(this, 'Query', {
      architecture,
      logRetentionDays: config.logRetentionDays,
      reservedConcurrentExecutions: config.queryReservedConcurrency || undefined,
      index: this.index,
      bucket: this.bucket,
      videoPrefix: config.videoPrefix,
      vectorBucket: this.vectors.bucketName,
    }).fn;
    this.vectors.grantRead(this.query.fn);
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
    const network = new WorkerNetwork(this, 'Network', {
      maxAzs: config.maxAzs,
      natGateways: config.natGateways,
      logRetentionDays: config.logRetentionDays,
    });
    const capacity = new GpuCapacity(this, 'GpuCapacity', {
      vpc: network.vpc,
      subnets: network.workerSubnets,
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
      extraModels: detect ? [DETECTION_MODELS.people, DETECTION_MODELS.actions] : [],
      modelZooUrl: config.modelZooUrl,
      logRetentionDays: config.logRetentionDays,
      settings: {
        tableName: table.tableName,
        labelShards: this.index.labelShards,
        bucket: this.bucket.bucketName,
        queueUrl: this.clips.queue.queueUrl,
        thumbnailQueueUrl: this.thumbnailMaker.queue.queueUrl,
        ...this.events.settings(),
        visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
        heartbeatSeconds: config.heartbeatSeconds,
        stopTimeoutSeconds: config.stopTimeoutSeconds,
        analyses: config.analyses,
        keyframeInterval: config.keyframeIntervalSeconds,
        ...(detect ? { peopleModel: imageManifestPath(DETECTION_MODELS.people), actionsModel: imageManifestPath(DETECTION_MODELS.actions) } : {}),
        personThreshold: config.personThreshold,
        vectorBucket: this.vectors.bucketName,
      },
    });
    const taskRole = this.worker.taskRole;
    taskRole.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.readVideo], resources: [videosArn] }));
    taskRole.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.consumeClips], resources: [this.clips.queue.queueArn] }));
    taskRole.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.enqueueClips], resources: [this.thumbnailMaker.queue.queueArn] }));
    taskRole.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.writeThumbnails], resources: [this.bucket.arnForObjects(`${THUMBNAIL_PREFIX}*`)] }));
    taskRole.addToPolicy(
      new iam.PolicyStatement({ actions: [...ACTIONS.listThumbnails], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${THUMBNAIL_PREFIX}*`] } } }),
    );
    taskRole.addToPolicy(
      // The worker never reads the label index (only the query API does).
      new iam.PolicyStatement({ actions: [...ACTIONS.workerTable], resources: [table.tableArn] }),
    );
    // Clip results too large for an index item: one object per clip and revision under the payload prefix.
    taskRole.addToPolicy(new iam.PolicyStatement({ actions: [...ACTIONS.clipPayloads], resources: [IndexTable.payloadObjects(this.bucket)] }));
    this.events.grantPublish(taskRole);
    this.vectors.grantWrite(taskRole);
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
      segmenterDeadLetterQueue: segmenter.failures,
      intakeQueue: segmenter.intake,
      expiryAlarmPercent: config.expiryAlarmPercent,
      functions: [
        { name: 'Segmenter', fn: this.segmenter.fn },
        { name: 'Query', fn: this.query.fn },
        { name: 'Sweeper', fn: this.sweeper.fn.fn },
        { name: 'Thumbnails', fn: this.thumbnailMaker.fn.fn },
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
    new CfnOutput(this, 'IntakeQueueUrl', { value: segmenter.intake.queueUrl, description: 'S3 upload events waiting for the segmenter' });
    new CfnOutput(this, 'IntakeDeadLetterQueueArn', { value: segmenter.failures.queueArn, description: 'Upload events the segmenter failed on intakeMaxReceiveCount times: redrive them (README "Reliability")' });
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
    const payloadObjects = {
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(this.bucket)}.Arn>/${CLIP_PAYLOAD_PREFIX}*]`,
      reason: 'Clip results too large for an index item: one object per clip and revision under the payload prefix (written by the worker, read for re-segmentation and thumbnails, removed with their video); nothing else in the bucket.',
    };
    const vectorKeys = {
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(this.bucket)}.Arn>/${VECTOR_KEYS_PREFIX}*]`,
      reason: 'The vector index\'s key lists: one small object per part of a video revision under the vector-keys prefix (written by the worker, read by the query API); nothing else in the bucket.',
    };
    acknowledge(this.segmenter.role, payloadObjects);
    acknowledge(this.worker.taskRole, videoObjects, thumbnailObjects, payloadObjects, vectorKeys);
    acknowledge(this.query.role, videoObjects, thumbnailObjects, payloadObjects, vectorKeys);
    acknowledge(this.sweeper.fn.role, videoObjects, payloadObjects);
    acknowledge(this.thumbnailMaker.fn.role, videoObjects, thumbnailObjects, payloadObjects);
    const notifications = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notifications) {
      acknowledge(notifications, {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'aws-cdk-lib\'s bucket-notification custom resource (configures the S3 -> segmenter notification once at deploy) uses the basic execution managed policy.',
      });
    }
  }
}
