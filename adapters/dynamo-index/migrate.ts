/**
 * Moving a table from layout 1 (one GSI1 over GSI1PK/GSI1SK, every attribute projected, the video
 * listing keyed by its last update, unsharded labels) to layout 2 (layout.ts). The items keep their
 * table keys; what changes are their index attributes:
 *   video    GSI1 VIDEOS/<updatedAt>#<id>   ->  byList VIDEOS/<same>#<id>, + byUnfinished while queued/processing
 *   segment  GSI1 LABEL#<label>/<rank>      ->  byList LABEL#<label>#<shard>/<rank, + person>
 *
 * Locally (`vidx local`, dynalite cannot add or drop an index on a live table) the table is copied
 * through a staging table, in steps that can each be repeated, so a stop at any point is resumed
 * on the next start. A deployed table is rewritten in place (migrateInPlace): its new indexes fill
 * as the items gain their attributes (README "Scale" says how to deploy it).
 */
import { DeleteTableCommand, DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, ScanCommand, type DynamoDBDocumentClient, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../clients.ts';
import { rankOf } from '../../core/index/order.ts';
import { SegmentRecordSchema } from '../../core/records.ts';
import { DEFAULT_LABEL_SHARDS, KEYS, LAYOUT_1, LAYOUT_VERSION, SEGMENT_SK_PREFIX, UNFINISHED_PK, VIDEO_META_SK, VIDEOS_LIST_PK, labelListPk, shardOf, unfinishedSk, videoListSk, type TableDefinition } from './layout.ts';

type Item = Record<string, NativeAttributeValue>;

export interface MigrationReport {
  from: number;
  to: number;
  /** Items copied into the new layout. */
  items: number;
}

/** One layout-1 item in layout 2 (an item already in layout 2 comes back unchanged). */
export function migrateItem(item: Item, labelShards = DEFAULT_LABEL_SHARDS): Item {
  if (!(LAYOUT_1.partitionKey in item) && !(LAYOUT_1.sortKey in item)) return item;
  const { [LAYOUT_1.partitionKey]: _pk, [LAYOUT_1.sortKey]: oldSk, ...rest } = item;
  const out: Item = { ...rest };
  if (item.SK === VIDEO_META_SK) {
    const videoId = String(item.videoId);
    const place = typeof oldSk === 'string' && oldSk.endsWith(`#${videoId}`) ? oldSk : videoListSk(String(item.updatedAt ?? item.createdAt), videoId);
    out[KEYS.list.partitionKey] = VIDEOS_LIST_PK;
    out[KEYS.list.sortKey] = place;
    if (item.status === 'queued' || item.status === 'processing') {
      out[KEYS.unfinished.partitionKey] = UNFINISHED_PK;
      out[KEYS.unfinished.sortKey] = unfinishedSk(String(item.updatedAt), videoId);
    }
  } else if (typeof item.SK === 'string' && item.SK.startsWith(SEGMENT_SK_PREFIX)) {
    const s = SegmentRecordSchema.parse(item);
    out[KEYS.list.partitionKey] = labelListPk(s.label, shardOf(s.videoId, labelShards));
    out[KEYS.list.sortKey] = rankOf(s);
  }
  return out;
}

/** Which layout a table holds, from its indexes; undefined = no such table. */
export async function layoutOf(clients: Pick<AwsClients, 'dynamo'>, tableName: string): Promise<number | undefined> {
  try {
    const d = await clients.dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    const names = new Set((d.Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
    return names.has(KEYS.list.name) ? LAYOUT_VERSION : names.has(LAYOUT_1.index) ? 1 : LAYOUT_VERSION;
  } catch (e) {
    if (e instanceof ResourceNotFoundException) return undefined;
    throw e;
  }
}

async function scanAll(doc: DynamoDBDocumentClient, tableName: string, each: (items: Item[]) => Promise<void>): Promise<number> {
  let start: Item | undefined;
  let n = 0;
  do {
    const r = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    const items = r.Items ?? [];
    n += items.length;
    if (items.length > 0) await each(items);
    start = r.LastEvaluatedKey;
  } while (start);
  return n;
}

async function putAll(doc: DynamoDBDocumentClient, tableName: string, items: readonly Item[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 10) throw new Error(`BatchWriteItem left ${pending.length} item(s) unprocessed after ${attempt} attempts`);
      if (attempt > 0) await new Promise((res) => setTimeout(res, Math.min(2000, 50 * 2 ** attempt)));
      const r = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (r.UnprocessedItems?.[tableName] ?? []) as typeof pending;
    }
  }
}

async function dropTable(clients: Pick<AwsClients, 'dynamo'>, tableName: string): Promise<void> {
  try {
    await clients.dynamo.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
  }
  for (let i = 0; i < 200 && (await layoutOf(clients, tableName)) !== undefined; i++) await new Promise((res) => setTimeout(res, 50));
}

/** Name of the staging table of a local migration. */
export function stagingName(tableName: string): string {
  return `${tableName}.migrating`;
}

/**
 * Brings a local table to the current layout, if it holds an older one (or a migration was cut
 * short): old -> staging (migrated), drop old, create new, staging -> new, drop staging. Each step
 * is idempotent, and which one to resume from follows from which tables exist.
 */
export async function migrateLocalTable(
  clients: Pick<AwsClients, 'dynamo' | 'doc'>,
  def: TableDefinition,
  create: (def: TableDefinition) => Promise<void>,
  labelShards = DEFAULT_LABEL_SHARDS,
): Promise<MigrationReport | undefined> {
  const staging = stagingName(def.name);
  const main = await layoutOf(clients, def.name);
  const resuming = (await layoutOf(clients, staging)) !== undefined;
  if (!resuming && (main === undefined || main === LAYOUT_VERSION)) return undefined;
  if (main !== undefined && main < LAYOUT_VERSION) {
    await create({ ...def, name: staging });
    await scanAll(clients.doc, def.name, (items) => putAll(clients.doc, staging, items.map((i) => migrateItem(i, labelShards))));
    await dropTable(clients, def.name);
  }
  await create(def);
  const items = await scanAll(clients.doc, staging, (batch) => putAll(clients.doc, def.name, batch.map((i) => migrateItem(i, labelShards))));
  await dropTable(clients, staging);
  return { from: main !== undefined && main < LAYOUT_VERSION ? main : 1, to: LAYOUT_VERSION, items };
}

/**
 * A deployed table, in place: every layout-1 item is written again with its layout-2 attributes
 * (and without GSI1's). Safe to repeat and to run while the stack works (a concurrent update of
 * a video record may be overwritten by its older copy: run it with the workers stopped).
 */
export async function migrateInPlace(doc: DynamoDBDocumentClient, tableName: string, labelShards = DEFAULT_LABEL_SHARDS): Promise<number> {
  let changed = 0;
  await scanAll(doc, tableName, async (items) => {
    const moved = items.filter((i) => LAYOUT_1.partitionKey in i || LAYOUT_1.sortKey in i).map((i) => migrateItem(i, labelShards));
    changed += moved.length;
    await putAll(doc, tableName, moved);
  });
  return changed;
}
