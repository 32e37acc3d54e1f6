/** dynalite in-process with the vidx table (adapters/dynamo-index/layout.ts), for integration tests. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, type BatchWriteCommandOutput, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../../core/names.ts';
import { TABLE_DEFINITION, createTableInput } from '../../../adapters/dynamo-index/layout.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export interface TestTable {
  endpoint: string;
  tableName: string;
  dynamo: DynamoDBClient;
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
  await dynamo.send(new CreateTableCommand(createTableInput({ ...TABLE_DEFINITION, name: tableName })));
  return {
    endpoint,
    tableName,
    dynamo,
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
