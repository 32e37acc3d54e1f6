/**
 * Creates the bucket, the clip queue + DLQ and the table + its indexes from the SAME definitions
 * the CDK app uses (core/infra-definitions.ts, adapters/dynamo-index/layout.ts), through the real
 * SDK. Idempotent: existing resources are kept (the table persists on disk between runs); a table
 * of an older layout is migrated (adapters/dynamo-index/migrate.ts).
 */
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../adapters/clients.ts';
import { CLIP_DLQ_DEFINITION, CLIP_QUEUE_DEFINITION, THUMBNAIL_DLQ_DEFINITION, THUMBNAIL_QUEUE_DEFINITION, type QueueDefinition } from '../../core/infra-definitions.ts';
import { TABLE_DEFINITION, createTableInput, type TableDefinition } from '../../adapters/dynamo-index/layout.ts';
import { migrateLocalTable, type MigrationReport } from '../../adapters/dynamo-index/migrate.ts';

export interface LocalResources {
  bucket: string;
  tableName: string;
  queueUrl: string;
  dlqUrl: string;
  /** Thumbnail jobs (core/pipeline/thumbnail-job.ts), consumed in the stack's process. */
  thumbnailQueueUrl: string;
  /** Set when the table was of an older layout and was migrated on this start. */
  migrated?: MigrationReport | undefined;
}

export async function ensureResources(clients: AwsClients, names: { bucket: string; tableName?: string }): Promise<LocalResources> {
  await ensureBucket(clients, names.bucket);
  const dlqUrl = await ensureQueue(clients, CLIP_DLQ_DEFINITION);
  const dlqArn = await queueArn(clients, dlqUrl);
  const queueUrl = await ensureQueue(clients, CLIP_QUEUE_DEFINITION, dlqArn);
  const tableName = names.tableName ?? TABLE_DEFINITION.name;
  const migrated = await migrateLocalTable(clients, { ...TABLE_DEFINITION, name: tableName }, (def) => ensureTable(clients, def));
  await ensureTable(clients, { ...TABLE_DEFINITION, name: tableName });
  const thumbnailDlqUrl = await ensureQueue(clients, THUMBNAIL_DLQ_DEFINITION);
  const thumbnailQueueUrl = await ensureQueue(clients, THUMBNAIL_QUEUE_DEFINITION, await queueArn(clients, thumbnailDlqUrl));
  return { bucket: names.bucket, tableName, queueUrl, dlqUrl, thumbnailQueueUrl, ...(migrated ? { migrated } : {}) };
}

async function ensureBucket(clients: AwsClients, bucket: string): Promise<void> {
  try {
    await clients.s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (_e) {
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

async function ensureQueue(clients: AwsClients, def: QueueDefinition, deadLetterArn?: string): Promise<string> {
  const attributes: Record<string, string> = {
    VisibilityTimeout: String(def.visibilityTimeoutSeconds),
    ReceiveMessageWaitTimeSeconds: String(def.receiveWaitSeconds),
    MessageRetentionPeriod: String(def.retentionSeconds),
  };
  if (def.redrive) {
    if (!deadLetterArn) throw new Error(`queue ${def.name} needs the ARN of ${def.redrive.deadLetterQueue}`);
    attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: String(def.redrive.maxReceiveCount) });
  }
  const r = await clients.sqs.send(new CreateQueueCommand({ QueueName: def.name, Attributes: attributes }));
  if (!r.QueueUrl) throw new Error(`CreateQueue ${def.name} returned no URL`);
  return r.QueueUrl;
}

async function queueArn(clients: AwsClients, url: string): Promise<string> {
  const r = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = r.Attributes?.QueueArn;
  if (!arn) throw new Error(`no ARN for ${url}`);
  return arn;
}

export async function ensureTable(clients: AwsClients, def: TableDefinition): Promise<void> {
  try {
    await clients.dynamo.send(new DescribeTableCommand({ TableName: def.name }));
    return;
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
  }
  await clients.dynamo.send(new CreateTableCommand(createTableInput(def)));
  for (let i = 0; i < 100; i++) {
    const d = await clients.dynamo.send(new DescribeTableCommand({ TableName: def.name }));
    if (d.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`table ${def.name} did not become ACTIVE`);
}
