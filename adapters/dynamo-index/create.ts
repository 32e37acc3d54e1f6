/** The index adapter wired to a deployment's clients: DynamoDB for the index, S3 for large clip payloads. */
import type { AwsClients } from '../clients.ts';
import { DynamoIndex } from './index.ts';
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
