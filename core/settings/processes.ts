/**
 * The settings of each vidx process, one declaration each (core/settings/define.ts), parsed once
 * at the process's entry and set by the CDK constructs and `vidx local` through `environmentOf`.
 * Defaults come from core/names.ts DEFAULTS, which the CDK config (cdk/config.ts) uses too, and
 * the worker's timing rules (heartbeat, drain) are written here once.
 */
import type { z } from 'zod';
import { DEFAULTS, ENV, VIDEO_PREFIX } from '../names.ts';
import { staleAfterSeconds } from '../pipeline/sweep.ts';
import { defineSettings, type ParsedSettings, type SettingsInput } from './define.ts';
import {
  AWS_FIELDS,
  EVENT_FIELDS,
  analysesSetting,
  flag,
  integer,
  keyframeIntervalSetting,
  oneOf,
  optionalInteger,
  optionalText,
  positive,
  probability,
  labelShardsSetting,
  tableSetting,
  text,
  textOr,
} from './fields.ts';

/** SQS returns at most this many messages per receive. */
export const SQS_MAX_BATCH = 10;

/** The ECS stop timeout's upper bound (seconds), and so the worker's. */
export const MAX_STOP_TIMEOUT_SECONDS = 120;

/**
 * The heartbeat when none is set: every 30 s (DEFAULTS), but at least three beats per visibility
 * timeout, so one slow beat never lets a message reappear.
 */
export function defaultHeartbeatSeconds(visibilityTimeoutSeconds: number): number {
  return Math.min(DEFAULTS.heartbeatSeconds, Math.max(1, Math.floor(visibilityTimeoutSeconds / 3)));
}

export interface DrainPlan {
  /** Long-poll wait: a stop waits for the poll in progress, so it is bounded by the stop timeout. */
  waitTimeSeconds: number;
  /** How long a stop lets the batch in hand finish before aborting and releasing it. */
  drainSeconds: number;
  /** A stop that has not finished by then exits 1 (before ECS kills it). */
  hardExitSeconds: number;
}

/**
 * The stop sequence inside the stop timeout T: the poll in progress ends within waitTime; the batch
 * in hand gets `drain` to finish, then is aborted and released; a hard exit at T minus a margin.
 * T = 120 s (the default) gives wait 20 s, drain 105 s, hard exit at 115 s.
 */
export function drainPlan(stopTimeoutSeconds: number): DrainPlan {
  const t = stopTimeoutSeconds;
  return {
    waitTimeSeconds: Math.max(1, Math.min(20, Math.floor(t / 4))),
    drainSeconds: Math.max(1, Math.floor(t - Math.min(15, t / 2))),
    hardExitSeconds: Math.max(1, t - Math.min(5, t / 4)),
  };
}

const MODEL_MANIFEST = 'a model manifest.json path';

/** Where moment vectors are kept (adapters/vector-index.ts): neither = none kept, similarity and teaching answer 501. */
const VECTOR_FIELDS = {
  vectorsDir: optionalText(ENV.vectorsDir, 'the folder of the embedded vector store'),
  vectorBucket: optionalText(ENV.vectorBucket, 'the S3 vector bucket\'s name'),
};


/** The GPU worker (gpu-worker/main.ts; `vidx local` forks it). */
export const WORKER_SETTINGS = defineSettings(
  'the worker',
  {
    queueUrl: text(ENV.queueUrl, 'the clip queue URL'),
    /** Set: assembly sends thumbnail jobs here and a CPU consumer cuts them; unset: the worker cuts them. */
    thumbnailQueueUrl: optionalText(ENV.thumbnailQueueUrl, 'the thumbnail job queue URL'),
    tableName: tableSetting,
    labelShards: labelShardsSetting,
    model: text(ENV.model, MODEL_MANIFEST),
    /** Clip results too large for an index item go to this bucket (adapters/dynamo-index/payloads.ts); with a vector bucket it also holds the vector index's per-part key lists. */
    bucket: optionalText(ENV.bucket, 'the video bucket\'s name'),
    device: oneOf(ENV.device, ['auto', 'cpu', 'cuda'], 'auto'),
    threads: optionalInteger(ENV.threads, 1, 1024),
    fastDecode: flag(ENV.fastDecode),
    healthPort: optionalInteger(ENV.healthPort, 0, 65_535),
    analyses: analysesSetting,
    peopleModel: optionalText(ENV.peopleModel, `${MODEL_MANIFEST} (the person detector)`),
    actionsModel: optionalText(ENV.actionsModel, `${MODEL_MANIFEST} (the action model)`),
    keyframeInterval: keyframeIntervalSetting,
    personThreshold: probability(ENV.personThreshold),
    visibilityTimeoutSeconds: integer(ENV.visibilityTimeoutSeconds, 1, 43_200, DEFAULTS.visibilityTimeoutSeconds),
    /** Default: defaultHeartbeatSeconds(visibility). */
    heartbeatSeconds: optionalInteger(ENV.heartbeatSeconds, 1, 43_200),
    stopTimeoutSeconds: integer(ENV.stopTimeoutSeconds, 2, MAX_STOP_TIMEOUT_SECONDS, DEFAULTS.stopTimeoutSeconds),
    /** Default: drainPlan(stop timeout); never more. */
    waitTimeSeconds: optionalInteger(ENV.waitTimeSeconds, 0, 20),
    /** Default: sized to the device (gpu-worker/settings.ts batchSizeFor). */
    batchSize: optionalInteger(ENV.batchSize, 1, SQS_MAX_BATCH),
    ...VECTOR_FIELDS,
    ...AWS_FIELDS,
    ...EVENT_FIELDS,
  },
  [
    (s) => (s.heartbeatSeconds !== undefined && s.heartbeatSeconds * 2 > s.visibilityTimeoutSeconds
      ? { key: 'heartbeatSeconds', message: `${s.heartbeatSeconds} must be at most half of ${ENV.visibilityTimeoutSeconds} (${s.visibilityTimeoutSeconds}), or a slow heartbeat loses the message` }
      : undefined),
    (s) => (s.waitTimeSeconds !== undefined && s.waitTimeSeconds > drainPlan(s.stopTimeoutSeconds).waitTimeSeconds
      ? { key: 'waitTimeSeconds', message: `${s.waitTimeSeconds} is longer than a stop within ${ENV.stopTimeoutSeconds} (${s.stopTimeoutSeconds}) can wait (${drainPlan(s.stopTimeoutSeconds).waitTimeSeconds})` }
      : undefined),
    (s) => (s.analyses.detect && (s.peopleModel === undefined || s.actionsModel === undefined)
      ? { key: s.peopleModel === undefined ? 'peopleModel' : 'actionsModel', message: `detection (${ENV.analyses}) needs ${ENV.peopleModel} and ${ENV.actionsModel}` }
      : undefined),
    webhookSigned,
  ],
);
export type WorkerEnvSettings = ParsedSettings<typeof WORKER_SETTINGS.fields>;
export type WorkerSettingsInput = SettingsInput<typeof WORKER_SETTINGS.fields>;

/** The segmenter Lambda (and `vidx local`'s segmenter, built from the same deps). */
export const SEGMENTER_SETTINGS = defineSettings(
  'the segmenter',
  {
    queueUrl: text(ENV.queueUrl, 'the clip queue URL'),
    tableName: tableSetting,
    labelShards: labelShardsSetting,
    model: text(ENV.model, MODEL_MANIFEST),
    videoPrefix: textOr(ENV.videoPrefix, 'the key prefix of the videos to index', VIDEO_PREFIX),
    clipSeconds: positive(ENV.clipSeconds, 3600, DEFAULTS.clipSeconds, 'seconds'),
    analyses: analysesSetting,
    keyframeInterval: keyframeIntervalSetting,
    /** Read where ffprobe is looked for (core/video/ffmpeg.ts); declared so deployments set it on purpose. */
    ffprobe: optionalText(ENV.ffprobe, 'the ffprobe binary\'s path'),
    ...AWS_FIELDS,
    ...EVENT_FIELDS,
  },
  [webhookSigned],
);
export type SegmenterSettingsInput = SettingsInput<typeof SEGMENTER_SETTINGS.fields>;

/** The query Lambda (and `vidx local`'s API, which runs the same handler). */
export const QUERY_SETTINGS = defineSettings('the query API', {
  tableName: tableSetting,
  labelShards: labelShardsSetting,
  /** Without it the media routes (video, thumbnails, uploads) answer 501. */
  bucket: optionalText(ENV.bucket, 'the video bucket\'s name'),
  videoPrefix: textOr(ENV.videoPrefix, 'the key prefix uploads go under', VIDEO_PREFIX),
  /** Without it cursors are signed with a key derived from the table name (core/query/cursor.ts). */
  cursorSecret: optionalText(ENV.cursorSecret, 'the key that signs pagination cursors'),
  /** Where browsers reach S3 (local: the vidx server's S3 proxy); unset on AWS. */
  mediaEndpoint: optionalText(ENV.mediaEndpoint, 'the URL browsers reach S3 at'),
  ...VECTOR_FIELDS,
  ...AWS_FIELDS,
});
export type QuerySettingsInput = SettingsInput<typeof QUERY_SETTINGS.fields>;

/** The sweeper Lambda (`vidx local` runs the same sweep with its own options). */
export const SWEEPER_SETTINGS = defineSettings('the sweeper', {
  queueUrl: text(ENV.queueUrl, 'the clip queue URL'),
  tableName: tableSetting,
  labelShards: labelShardsSetting,
  staleAfterSeconds: integer(ENV.sweepStaleSeconds, 1, 10_000_000, staleAfterSeconds(DEFAULTS.visibilityTimeoutSeconds, DEFAULTS.maxReceiveCount)),
  maxRequeues: integer(ENV.sweepMaxRequeues, 1, 100, DEFAULTS.maxRequeues),
  ...AWS_FIELDS,
});
export type SweeperSettingsInput = SettingsInput<typeof SWEEPER_SETTINGS.fields>;

/** The thumbnail Lambda (the CPU consumer of thumbnail jobs; `vidx local` runs the same use case). */
export const THUMBNAIL_SETTINGS = defineSettings('the thumbnail consumer', {
  tableName: tableSetting,
  /** Read where ffmpeg is looked for (core/video/ffmpeg.ts); declared so deployments set it on purpose. */
  ffmpeg: optionalText(ENV.ffmpeg, 'the ffmpeg binary\'s path'),
  ...AWS_FIELDS,
});

/** The SDK clients' settings alone (the CLI commands that talk to AWS). */
export const AWS_SETTINGS = defineSettings('the AWS clients', AWS_FIELDS);
export type AwsSettings = ParsedSettings<typeof AWS_FIELDS>;
export type EventSettings = ParsedSettings<typeof EVENT_FIELDS>;
export type EventSettingsInput = SettingsInput<typeof EVENT_FIELDS>;

/** `vidx analyze` (its options win over these). */
export const ANALYZE_SETTINGS = defineSettings('vidx analyze', {
  threads: WORKER_SETTINGS.fields.threads,
  fastDecode: WORKER_SETTINGS.fields.fastDecode,
});

/** `vidx local` itself (its options win over these; the processes it runs get theirs from it). */
export const LOCAL_SETTINGS = defineSettings('vidx local', {
  region: AWS_FIELDS.region,
  analyses: analysesSetting,
  keyframeInterval: keyframeIntervalSetting,
  cursorSecret: optionalText(ENV.cursorSecret, 'the key that signs pagination cursors'),
  /** Never download a model on a first start (synthetic weights unless one is cached). */
  noPull: flag(ENV.noPull),
});

/** A webhook's bodies are signed: its URL needs a secret or the secret's ARN. */
function webhookSigned(s: z.infer<z.ZodObject<{ webhookUrl: typeof EVENT_FIELDS.webhookUrl.schema; webhookSecret: typeof EVENT_FIELDS.webhookSecret.schema; webhookSecretArn: typeof EVENT_FIELDS.webhookSecretArn.schema }>>) {
  return s.webhookUrl !== undefined && s.webhookSecret === undefined && s.webhookSecretArn === undefined
    ? { key: 'webhookUrl' as const, message: `is set but neither ${ENV.webhookSecret} nor ${ENV.webhookSecretArn}: webhook bodies must be signed` }
    : undefined;
}
