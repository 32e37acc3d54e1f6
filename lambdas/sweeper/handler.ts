/**
 * Sweeper Lambda (EventBridge schedule): finishes unfinished videos whose clip jobs were lost, or
 * fails them with a reason (core/pipeline/sweep.ts). Wiring only.
 * Settings: core/settings/processes.ts SWEEPER_SETTINGS (table, queue, staleness, re-enqueues).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { parseSettings, type ParsedSettings } from '../../core/settings/define.ts';
import { SWEEPER_SETTINGS } from '../../core/settings/processes.ts';
import { awsConfigOf, createClients, type AwsClients } from '../../adapters/clients.ts';
import { createIndex } from '../../adapters/dynamo-index/create.ts';
import { s3VideoObjects } from '../../adapters/objects.ts';
import { sqsClipQueue } from '../../adapters/queue.ts';
import type { PipelineLog } from '../../core/pipeline/ports.ts';
import { sweepUnfinished, type SweepDeps, type SweepOptions, type SweepReport } from '../../core/pipeline/sweep.ts';


/** The one builder of the sweeper's dependencies (this Lambda and `vidx local`). */
export function buildSweepDeps(clients: Pick<AwsClients, 's3' | 'sqs' | 'doc'>, tableName: string, queueUrl: string, log: PipelineLog, labelShards?: number): SweepDeps {
  return { objects: s3VideoObjects(clients.s3), queue: sqsClipQueue(clients.sqs, queueUrl), store: createIndex(clients, tableName, { labelShards }), log };
}

/** The sweep's options on AWS, from the sweeper's settings. */
export function sweepOptionsOf(s: Pick<ParsedSettings<typeof SWEEPER_SETTINGS.fields>, 'staleAfterSeconds' | 'maxRequeues'>): SweepOptions {
  return {
    staleAfterSeconds: s.staleAfterSeconds,
    maxRequeues: s.maxRequeues,
    // On AWS a missing object was deleted: the video can never finish.
    missingObject: 'fail',
  };
}

const logger = new Logger({ serviceName: 'vidx-sweeper' });
let cold: { deps: SweepDeps; options: SweepOptions } | undefined;

/** The Lambda entry point (the scheduled event carries nothing the sweep needs). */
export async function handler(): Promise<SweepReport> {
  if (!cold) {
    const settings = parseSettings(SWEEPER_SETTINGS);
    cold = { deps: buildSweepDeps(createClients(awsConfigOf(settings)), settings.tableName, settings.queueUrl, logger, settings.labelShards), options: sweepOptionsOf(settings) };
  }
  return sweepUnfinished(cold.deps, cold.options);
}
