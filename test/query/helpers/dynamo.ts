/** dynalite in-process with the vidx table (keys and GSI from TABLE), for integration tests. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, type BatchWriteCommandOutput, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../../core/names.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export interface TestTable {
  endpoint: string;
  tableName: string;
  doc: DynamoDBDocumentClient;
  put(items: Record<string, NativeAttributeValue>[]): Promise<void>;
  close(): Promise<void>;
}

export async function startTable(tableName: string = TABLE.name): Promise<TestTable> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const { partitionKey: pk, sortKey: sk, labelIndex: gsi } = TABLE;
  await dynamo.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [pk, sk, gsi.partitionKey, gsi.sortKey].map((n) => ({ AttributeName: n, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: pk, KeyType: 'HASH' },
        { AttributeName: sk, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: gsi.name,
          KeySchema: [
            { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
            { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  return {
    endpoint,
    tableName,
    doc,
    async put(items) {
      for (let i = 0; i < items.length; i += 25) {
        let pending: Record<string, NativeAttributeValue>[] | undefined = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
        while (pending && pending.length > 0) {
          const r: BatchWriteCommandOutput = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
          pending = r.UnprocessedItems?.[tableName];
        }
      }
    },
    async close() {
      doc.destroy();
      dynamo.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
