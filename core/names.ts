/**
 * One definition of every name and default shared by the Lambdas, the worker, the local stack
 * and the CDK app. Change a name here and every side follows.
 */
/** Uploads under this prefix are indexed; anything else in the bucket is ignored. */
export const VIDEO_PREFIX = 'videos/';

/** One small JPEG per segment (the frame of its best window), written by the worker. */
export const THUMBNAIL_PREFIX = 'thumbnails/';

/** Per-clip payloads too large for an index item (window scores, detections), one object per clip and revision. */
export const CLIP_PAYLOAD_PREFIX = 'clip-payloads/';

export const TABLE = {
  /** Logical/default physical name; deployed stacks pass the real name through VIDX_TABLE. Its layout: adapters/dynamo-index/layout.ts. */
  name: 'vidx-index',
} as const;

export const QUEUES = {
  clips: 'vidx-clips',
  clipsDeadLetter: 'vidx-clips-dlq',
  /** Deployed only: S3 upload events -> segmenter, and its dead-letter queue. */
  intake: 'vidx-intake',
  intakeDeadLetter: 'vidx-intake-dlq',
  /** Thumbnail jobs (one per indexed revision) for the CPU consumer, and its dead-letter queue. */
  thumbnails: 'vidx-thumbnails',
  thumbnailsDeadLetter: 'vidx-thumbnails-dlq',
} as const;

export const BUCKET = { localName: 'vidx-videos' } as const;

/**
 * Environment variables read by the handlers and the worker (set by CDK and by `vidx local`). Which
 * process reads which, with what default and range: core/settings/processes.ts.
 */
export const ENV = {
  table: 'VIDX_TABLE',
  bucket: 'VIDX_BUCKET',
  queueUrl: 'VIDX_QUEUE_URL',
  /** The thumbnail job queue: set = the worker sends thumbnail jobs instead of cutting frames itself. */
  thumbnailQueueUrl: 'VIDX_THUMBNAIL_QUEUE_URL',
  videoPrefix: 'VIDX_VIDEO_PREFIX',
  clipSeconds: 'VIDX_CLIP_SECONDS',
  model: 'VIDX_MODEL',
  /** classify, detect or classify,detect (core/detection/analyses.ts); unset = classify. */
  analyses: 'VIDX_ANALYSES',
  /** Detection deployments: the person detector's and the action model's manifests, and the keyframe interval (s). */
  peopleModel: 'VIDX_PEOPLE_MODEL',
  actionsModel: 'VIDX_ACTIONS_MODEL',
  keyframeInterval: 'VIDX_KEYFRAME_INTERVAL',
  /** Detection: the person score threshold (default: the detector manifest's 0.8). */
  personThreshold: 'VIDX_PERSON_THRESHOLD',
  /** Where moment vectors are kept: a folder (the embedded store, `vidx local`) or an S3 vector bucket. */
  vectorsDir: 'VIDX_VECTORS_DIR',
  vectorBucket: 'VIDX_VECTOR_BUCKET',
  endpoint: 'VIDX_AWS_ENDPOINT',
  dynamoEndpoint: 'VIDX_DYNAMODB_ENDPOINT',
  region: 'AWS_REGION',
  ffmpeg: 'VIDX_FFMPEG',
  ffprobe: 'VIDX_FFPROBE',
  /** "1": `vidx local` never downloads a model on its first start (synthetic weights unless one is cached). */
  noPull: 'VIDX_NO_PULL',
  /** A TrueType/OpenType font for `analyze --annotate` labels (default: a common system font). */
  font: 'VIDX_FONT',
  device: 'VIDX_DEVICE',
  threads: 'VIDX_THREADS',
  /** "1": decode without the H.264 loop filter (faster; see README Performance). */
  fastDecode: 'VIDX_FAST_DECODE',
  healthPort: 'VIDX_HEALTH_PORT',
  /** The worker's queue settings (cdk/config.ts sets them; defaults in DEFAULTS). */
  visibilityTimeoutSeconds: 'VIDX_VISIBILITY_TIMEOUT_SECONDS',
  heartbeatSeconds: 'VIDX_HEARTBEAT_SECONDS',
  /** The ECS stop timeout the worker must drain within after SIGTERM. */
  stopTimeoutSeconds: 'VIDX_STOP_TIMEOUT_SECONDS',
  /** The receive long-poll (default: from the stop timeout; `vidx local` keeps it short so Ctrl-C is quick). */
  waitTimeSeconds: 'VIDX_WAIT_TIME_SECONDS',
  /** Clip messages taken per receive (default: sized to the device, see gpu-worker/settings.ts). */
  batchSize: 'VIDX_BATCH_SIZE',
  /** The sweeper (core/pipeline/sweep.ts): seconds without progress, re-enqueues before failing. */
  sweepStaleSeconds: 'VIDX_SWEEP_STALE_SECONDS',
  sweepMaxRequeues: 'VIDX_SWEEP_MAX_REQUEUES',
  /** Write shards per label of the search index (default INDEX_DEFAULTS.labelShards); every process of a deployment must agree. */
  labelShards: 'VIDX_LABEL_SHARDS',
  /** Where browsers reach S3 through presigned URLs (local: the vidx server's S3 proxy); unset on AWS. */
  mediaEndpoint: 'VIDX_MEDIA_ENDPOINT',
  /** `vidx local`: the secret its presigned media URLs are signed with, and verified against (random per run). */
  localSigningSecret: 'VIDX_LOCAL_SIGNING_SECRET',
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
  /** The key that signs the query API's pagination cursors (core/query/cursor.ts). */
  cursorSecret: 'VIDX_CURSOR_SECRET',
} as const;

/** An environment variable vidx reads (the processes' settings: core/settings/processes.ts). */
export type EnvName = (typeof ENV)[keyof typeof ENV];

export const DEFAULTS = {
  clipSeconds: 60,
  maxReceiveCount: 5,
  /** The worker extends visibility every heartbeat; the queue's timeout must exceed it well. */
  visibilityTimeoutSeconds: 120,
  heartbeatSeconds: 30,
  /** ECS stop timeout: the worker drains within it after SIGTERM. */
  stopTimeoutSeconds: 120,
  /** The sweeper runs this often; a stalled video is re-enqueued at most this many times, then fails. */
  sweepEveryMinutes: 5,
  maxRequeues: 3,
  /**
   * The segmenter's run time limit (the Lambda timeout): a revision recorded but not enqueued for
   * this long lost its event's run, and a redelivered event takes it over (core/pipeline/segment.ts).
   */
  segmenterTimeoutSeconds: 120,
  /** The thumbnail consumer's run time limit (the Lambda timeout). */
  thumbnailTimeoutSeconds: 300,
  /** Receives of an upload event (intake queue) before it is dead-lettered. */
  intakeMaxReceiveCount: 5,
  /** Segmenter runs the intake queue's event source mapping starts at once. */
  segmenterMaxConcurrency: 20,
  /** Thumbnail Lambdas (one job each) at once. */
  thumbnailMaxConcurrency: 10,
  /**
   * `vidx reindex --all` pace (core/pipeline/reindex-pace.ts): clip jobs per second at most, and
   * no new video while the clip queue holds this many jobs.
   */
  reindexClipsPerSecond: 20,
  reindexMaxWaiting: 2000,
  localApiPort: 8787,
  localDataDir: '.vidx',
  region: 'us-east-1',
} as const;

/** Key prefix (in the video bucket) of the lists of keys the S3 Vectors index keeps per part. */
export const VECTOR_KEYS_PREFIX = 'vectors/';
