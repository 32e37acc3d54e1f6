/**
 * The one typed configuration of the CDK app. Values come from CDK context, either as one object
 * (`"context": { "vidx": { "workerSpot": true } }` in cdk.json) or as single keys on the command
 * line (`npx cdk deploy -c vidx:workerSpot=true -c vidx:workerInstanceTypes=g5.xlarge,g5.2xlarge`).
 * Defaults that the runtime also uses come from core/names.ts, so CDK and code never drift.
 */
import { z } from 'zod';
import { ANALYSES } from '../core/detection/analyses.ts';
import { DEFAULT_KEYFRAME_INTERVAL } from '../core/detection/keyframes.ts';
import { DEFAULTS, VIDEO_PREFIX } from '../core/names.ts';
import { INDEX_DEFAULTS } from '../core/infra-definitions.ts';
import { RELEASES, type Release } from '../models/pull.ts';
import { GENERATED_MANIFEST } from './model-manifest.ts';

/** Context strings from `-c key=value` arrive as strings: coerce them to the declared types. */
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z.union([
  z.array(z.string().min(1)),
  z.string().transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0)),
]);

/** The most worker tasks the config accepts (one GPU each). */
export const MAX_WORKER_TASKS = 1000;

/** Single-GPU instance types of three families (NVIDIA A10G, L4, T4), in order of preference. */
export const DEFAULT_WORKER_INSTANCE_TYPES = ['g5.xlarge', 'g6.xlarge', 'g4dn.xlarge', 'g5.2xlarge', 'g6.2xlarge', 'g4dn.2xlarge'] as const;

const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const AuthorizerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('iam') }),
  z.object({
    type: z.literal('jwt'),
    /** e.g. https://cognito-idp.<region>.amazonaws.com/<poolId> */
    issuer: z.url(),
    audience: z.array(z.string().min(1)).min(1),
  }),
]);

export const ConfigSchema = z
  .object({
    stackName: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/).default('Vidx'),
    /**
     * GPU instance types for the worker capacity provider, in order of preference. Several families
     * (one GPU each): spot capacity of one type in one AZ runs out in a burst, of six types in three
     * AZs far less often (README "Scaling").
     */
    workerInstanceTypes: list.pipe(z.array(z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/)).min(1)).default([...DEFAULT_WORKER_INSTANCE_TYPES]),
    /** Run workers on spot (100 % spot above a base of 0). Interrupted clips go back to the queue. */
    workerSpot: bool.default(false),
    /**
     * Upper bound of tasks (one GPU each) and so of GPU instances (one task per single-GPU instance).
     * Up to 1,000; the account's EC2 vCPU quota for G instances must cover it (README "Scaling").
     */
    workerMaxTasks: int(1, MAX_WORKER_TASKS).default(4),
    /** CPU units and soft memory reservation of the worker container (g5.xlarge: 4 vCPU, 16 GiB). */
    workerCpu: int(256, 65536).default(3584),
    workerMemoryReservationMiB: int(512, 1_000_000).default(12288),
    /** Root EBS volume of a GPU instance: the CUDA image is large. */
    workerRootVolumeGiB: int(30, 1000).default(100),
    /** Target of the backlog-per-task tracking policy: (visible + in-flight messages) / running tasks. */
    backlogPerTask: int(1, 10_000).default(20),
    /** Scale the service to zero after the queue (visible + in flight) has been empty this long. */
    scaleToZeroAfterMinutes: int(1, 60).default(15),
    workerHealthPort: int(1, 65535).default(8080),
    model: z.string().regex(/^[a-z0-9_]{1,64}$/).default('slowfast_r50'),
    /** Weights built into the worker image: the PyTorchVideo checkpoint, or synthetic (labels mean nothing). */
    modelSource: z.enum(['pretrained', 'synthetic']).default('pretrained'),
    /**
     * A mirror holding release checkpoints by file name, for the image build's `vidx models pull`
     * (VIDX_MODEL_ZOO_URL): how a model without a public address (MARS) gets into the image.
     */
    modelZooUrl: z.url().optional(),
    /**
     * The manifest bundled with the segmenter (cdk/model-manifest.ts): `generated` (window settings
     * of models/manifests.ts, `trained: false`), `pulled` (the one `vidx models pull <model>` cached;
     * an error if it is not there) or a path to a manifest.json, relative to the repository root.
     */
    modelManifest: z.string().min(1).default(GENERATED_MANIFEST),
    /**
     * What the workers find (core/detection/analyses.ts): `classify` (what happens in each clip,
     * `model`), `detect` (who does what and where: the AVA person detector and action model, built
     * into the worker image beside `model`), or both (`classify,detect`).
     */
    analyses: list.pipe(z.array(z.enum(ANALYSES)).min(1)).default(['classify']).transform((a) => [...new Set(a)].sort()),
    /** Detection: seconds between keyframes (AVA annotates one a second). */
    keyframeIntervalSeconds: z.coerce.number().positive().max(60).default(DEFAULT_KEYFRAME_INTERVAL),
    /** Detection: a detection is a person at this score or above (default: the detector manifest's 0.8). */
    personThreshold: z.coerce.number().min(0).max(1).optional(),
    clipSeconds: int(1, 3600).default(DEFAULTS.clipSeconds),
    videoPrefix: z.string().min(1).default(VIDEO_PREFIX),
    maxReceiveCount: int(1, 1000).default(DEFAULTS.maxReceiveCount),
    visibilityTimeoutSeconds: int(30, 43_200).default(DEFAULTS.visibilityTimeoutSeconds),
    heartbeatSeconds: int(1, 3600).default(DEFAULTS.heartbeatSeconds),
    stopTimeoutSeconds: int(2, 120).default(DEFAULTS.stopTimeoutSeconds),
    /** The sweeper (unfinished videos with lost clip jobs): how often it runs, re-enqueues before a video fails. */
    sweepEveryMinutes: int(1, 1440).default(DEFAULTS.sweepEveryMinutes),
    maxRequeues: int(1, 100).default(DEFAULTS.maxRequeues),
    /** Write shards per label in the search index (may grow on a live stack, never shrink: README "Scale"). */
    labelShards: int(1, 64).default(INDEX_DEFAULTS.labelShards),
    /** Lambda architecture; the ffprobe layer is built from @ffprobe-installer/linux-<arch>. */
    lambdaArchitecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
    /**
     * Segmenter runs at once (the intake queue's event source mapping, 2..1000): a bulk upload
     * waits in the intake queue rather than starving the account.
     */
    segmenterMaxConcurrency: int(2, 1000).default(DEFAULTS.segmenterMaxConcurrency),
    /** Receives of an upload event before it is dead-lettered (then redriven by hand, README "Reliability"). */
    intakeMaxReceiveCount: int(1, 1000).default(DEFAULTS.intakeMaxReceiveCount),
    /** Reserved concurrency (0 = none); when set, at least segmenterMaxConcurrency (or the mapping is throttled). */
    segmenterReservedConcurrency: int(0, 1000).default(0),
    queryReservedConcurrency: int(0, 1000).default(0),
    authorizer: AuthorizerSchema.default({ type: 'iam' }),
    apiThrottleRateLimit: int(1, 100_000).default(50),
    apiThrottleBurstLimit: int(1, 100_000).default(100),
    corsAllowedOrigins: list.default([`http://localhost:${DEFAULTS.localApiPort}`]),
    /** Oldest clip waiting longer than this raises an alarm (workers down or too few). */
    oldestMessageAlarmSeconds: int(60, 1_209_600).default(3600),
    /**
     * A second alarm, against the queues' 14-day retention: the oldest clip job or upload event has
     * waited this share of it (percent), so at this pace the backlog starts to expire in the rest.
     */
    expiryAlarmPercent: int(10, 95).default(50),
    /** Worker error log lines in 5 minutes that raise an alarm. */
    workerErrorAlarmThreshold: int(1, 100_000).default(5),
    /** One of CloudWatch Logs' retention values (1, 3, 5, 7, 14, 30, 60, 90, 120, ... 3653). */
    logRetentionDays: z.coerce
      .number()
      .refine((d) => LOG_RETENTION_DAYS.includes(d), { message: `one of ${LOG_RETENTION_DAYS.join(', ')}` })
      .default(30),
    /** Keep the bucket and the table when the stack is deleted. */
    retainData: bool.default(true),
    /** 0: GPU instances in public subnets (no NAT cost, no inbound rules); > 0: private subnets behind NAT. */
    natGateways: int(0, 3).default(0),
    /** AZs of the worker VPC (GPU spot capacity differs per AZ). Regions with fewer AZs need a lower value. */
    maxAzs: int(1, 6).default(3),
    alarmEmail: z.email().optional(),
    /** Also POST every done/failed event to this URL, signed with the WebhookSecretArn secret. */
    webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Deploy the web page: CloudFront + a private bucket, and a Cognito user pool whose tokens the API accepts (replaces `authorizer`). */
    web: bool.default(false),
    /** Cognito hosted UI domain prefix (unique in the region); default `<stack name>-<account>`. */
    webDomainPrefix: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/).optional(),
  })
  .refine((c) => c.visibilityTimeoutSeconds >= 2 * c.heartbeatSeconds, {
    message: 'visibilityTimeoutSeconds must be at least twice heartbeatSeconds, or a slow heartbeat loses the message',
    path: ['visibilityTimeoutSeconds'],
  })
  .refine((c) => c.segmenterReservedConcurrency === 0 || c.segmenterReservedConcurrency >= c.segmenterMaxConcurrency, {
    message: 'segmenterReservedConcurrency must be 0 (none) or at least segmenterMaxConcurrency, or the intake mapping is throttled',
    path: ['segmenterReservedConcurrency'],
  })
  .refine((c) => c.visibilityTimeoutSeconds >= c.stopTimeoutSeconds, {
    message: 'visibilityTimeoutSeconds must cover stopTimeoutSeconds so a draining worker keeps its messages',
    path: ['visibilityTimeoutSeconds'],
  })
  .superRefine((c, ctx) => {
    // The image build pulls the weights; a release only on a web page would fail deep in `cdk deploy`.
    const release: Release | undefined = (RELEASES as Record<string, Release>)[c.model];
    if (c.modelSource !== 'pretrained' || release?.kind !== 'manual') return;
    if (c.modelZooUrl !== undefined && release.file !== null) return;
    const how = release.file !== null ? `put ${release.file} on a mirror and set modelZooUrl, or ` : '';
    ctx.addIssue({
      code: 'custom',
      path: ['modelSource'],
      message: `${c.model}'s weights have no public download address (only ${release.where}): ${how}set modelSource to synthetic`,
    });
  });

export type VidxConfig = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Minimal view of a construct node: what loadConfig reads. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

export const CONTEXT_KEY = 'vidx';
const CONFIG_KEYS = Object.keys(ConfigSchema.shape) as (keyof VidxConfig)[];

/** Reads `vidx` (object) and `vidx:<key>` (single values, which win) from context and validates them. */
export function loadConfig(context: ContextSource, overrides: ConfigInput = {}): VidxConfig {
  const fromObject: unknown = context.tryGetContext(CONTEXT_KEY) ?? {};
  if (typeof fromObject !== 'object' || fromObject === null || Array.isArray(fromObject)) {
    throw new Error(`context "${CONTEXT_KEY}" must be an object`);
  }
  const fromKeys: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = context.tryGetContext(`${CONTEXT_KEY}:${key}`);
    if (value !== undefined) fromKeys[key] = key === 'authorizer' && typeof value === 'string' ? JSON.parse(value) : value;
  }
  const parsed = ConfigSchema.safeParse({ ...fromObject, ...fromKeys, ...overrides });
  if (!parsed.success) {
    throw new Error(`invalid vidx CDK configuration:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
