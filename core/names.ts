/**
 * One definition of every name and default shared by the Lambdas, the worker, the local stack
 * and the CDK app. Change a name here and every side follows.
 */
export const APP_NAME = 'vidx';

/** Uploads under this prefix are indexed; anything else in the bucket is ignored. */
export const VIDEO_PREFIX = 'videos/';

/** One small JPEG per segment (the frame of its best window), written by the worker. */
export const THUMBNAIL_PREFIX = 'thumbnails/';

export const TABLE = {
  /** Logical/default physical name; deployed stacks pass the real name through VIDX_TABLE. */
  name: 'vidx-index',
  partitionKey: 'PK',
  sortKey: 'SK',
  labelIndex: { name: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
} as const;

export const QUEUES = {
  clips: 'vidx-clips',
  clipsDeadLetter: 'vidx-clips-dlq',
} as const;

export const BUCKET = { localName: 'vidx-videos' } as const;

/** Environment variables read by the handlers and the worker (set by CDK and by `vidx local`). */
export const ENV = {
  table: 'VIDX_TABLE',
  bucket: 'VIDX_BUCKET',
  queueUrl: 'VIDX_QUEUE_URL',
  videoPrefix: 'VIDX_VIDEO_PREFIX',
  clipSeconds: 'VIDX_CLIP_SECONDS',
  model: 'VIDX_MODEL',
  endpoint: 'VIDX_AWS_ENDPOINT',
  dynamoEndpoint: 'VIDX_DYNAMODB_ENDPOINT',
  region: 'AWS_REGION',
  ffmpeg: 'VIDX_FFMPEG',
  ffprobe: 'VIDX_FFPROBE',
  device: 'VIDX_DEVICE',
  threads: 'VIDX_THREADS',
  healthPort: 'VIDX_HEALTH_PORT',
  /** Where browsers reach S3 through presigned URLs (local: the vidx server's S3 proxy); unset on AWS. */
  mediaEndpoint: 'VIDX_MEDIA_ENDPOINT',
  /** Done/failed events (core/events): any of these set = that sink is on. */
  eventTopicArn: 'VIDX_EVENT_TOPIC_ARN',
  eventBusName: 'VIDX_EVENT_BUS',
  webhookUrl: 'VIDX_WEBHOOK_URL',
  /** The webhook's signing secret: its Secrets Manager ARN (AWS) or the value itself (local). */
  webhookSecretArn: 'VIDX_WEBHOOK_SECRET_ARN',
  webhookSecret: 'VIDX_WEBHOOK_SECRET',
  /** SNS + EventBridge endpoint override (locally: fauxqs serves SNS; tests: a PutEvents receiver). */
  snsEndpoint: 'VIDX_SNS_ENDPOINT',
  eventsEndpoint: 'VIDX_EVENTS_ENDPOINT',
  secretsEndpoint: 'VIDX_SECRETS_ENDPOINT',
} as const;

export const DEFAULTS = {
  clipSeconds: 60,
  maxReceiveCount: 5,
  /** The worker extends visibility every heartbeat; the queue's timeout must exceed it well. */
  visibilityTimeoutSeconds: 120,
  heartbeatSeconds: 30,
  /** ECS stop timeout: the worker drains within it after SIGTERM. */
  stopTimeoutSeconds: 120,
  localApiPort: 8787,
  localDataDir: '.vidx',
  region: 'us-east-1',
} as const;
