/**
 * Sweeper Lambda (EventBridge schedule): finishes unfinished videos whose clip jobs were lost, or
 * fails them with a reason (core/pipeline/sweep.ts). Wiring only.
 * Configuration (env): VIDX_TABLE, VIDX_QUEUE_URL, VIDX_SWEEP_STALE_SECONDS, VIDX_SWEEP_MAX_REQUEUES.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { VidxError } from '../../core/errors.ts';
import { DEFAULTS, ENV, TABLE } from '../../core/names.ts';
import { createClients, type AwsClients } from '../../adapters/clients.ts';
import { createIndex, labelShardsFrom } from '../../adapters/dynamo-index/create.ts';
import { s3VideoObjects } from '../../adapters/objects.ts';
import { sqsClipQueue } from '../../adapters/queue.ts';
import type { PipelineLog } from '../../core/pipeline/ports.ts';
import { staleAfterSeconds, sweepUnfinished, type SweepDeps, type SweepOptions, type SweepReport } from '../../core/pipeline/sweep.ts';


/** The one builder of the sweeper's dependencies (this Lambda and `vidx local`). */
export function buildSweepDeps(clients: Pick<AwsClients, 's3' | 'sqs' | 'doc'>, tableName: string, queueUrl: string, log: PipelineLog): SweepDeps {
  return { objects: s3VideoObjects(clients.s3), queue: sqsClipQueue(clients.sqs, queueUrl), store: createIndex(clients, tableName, { labelShards: labelShardsFrom(process.env) }), log };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!(Number.isInteger(n) && n > 0)) throw new VidxError('SWEEPER_CONFIG', `${name} must be a positive integer, got "${raw}"`);
  return n;
}

export function sweepOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SweepOptions {
  return {
    staleAfterSeconds: positiveInt(env, ENV.sweepStaleSeconds, staleAfterSeconds(DEFAULTS.visibilityTimeoutSeconds, DEFAULTS.maxReceiveCount)),
    maxRequeues: positiveInt(env, ENV.sweepMaxRequeues, DEFAULTS.maxRequeues),
    // On AWS a missing object was deleted: the video can never finish.
    missingObject: 'fail',
  };
}

const logger = new Logger({ serviceName: 'vidx-sweeper' });
let deps: SweepDeps | undefined;

/** The Lambda entry point (the scheduled event carries nothing the sweep needs). */
export async function handler(): Promise<SweepReport> {
  const queueUrl = process.env[ENV.queueUrl];
  if (!queueUrl) throw new VidxError('SWEEPER_CONFIG', `the sweeper needs ${ENV.queueUrl} in its environment`);
  deps ??= buildSweepDeps(createClients(), process.env[ENV.table] || TABLE.name, queueUrl, logger);
  return sweepUnfinished(deps, sweepOptionsFromEnv());
}
