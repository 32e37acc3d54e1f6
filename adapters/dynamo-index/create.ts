/** The index adapter wired to a deployment's clients: DynamoDB for the index, S3 for large clip payloads. */
import type { AwsClients } from '../clients.ts';
import { VidxError } from '../../core/errors.ts';
import { ENV } from '../../core/names.ts';
import { DynamoIndex } from './index.ts';
import { DEFAULT_LABEL_SHARDS } from './layout.ts';
import { s3PayloadStore } from './payloads.ts';

export interface IndexWiring {
  /** Write shards per label (default INDEX_DEFAULTS.labelShards). */
  labelShards?: number | undefined;
  /** Where this process puts large clip payloads (the worker: the video bucket); others only read and remove them. */
  payloadBucket?: string | undefined;
  now?: () => Date;
}

export function createIndex(clients: Pick<AwsClients, 'doc' | 's3'>, tableName: string, w: IndexWiring = {}): DynamoIndex {
  return new DynamoIndex(clients.doc, tableName, { labelShards: w.labelShards, payloads: s3PayloadStore(clients.s3, w.payloadBucket), ...(w.now ? { now: w.now } : {}) });
}

/** VIDX_LABEL_SHARDS (every process of a deployment gets the same value from the CDK config). */
export function labelShardsFrom(env: NodeJS.ProcessEnv): number {
  const raw = env[ENV.labelShards];
  if (raw === undefined || raw.trim() === '') return DEFAULT_LABEL_SHARDS;
  const n = Number(raw);
  if (!(Number.isInteger(n) && n >= 1 && n <= 64)) throw new VidxError('CONFIG_MISSING', `${ENV.labelShards} must be an integer from 1 to 64, got "${raw}"`);
  return n;
}
