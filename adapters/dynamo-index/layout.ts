/**
 * The index's layout in DynamoDB: the one table, its keys and its indexes. Only the DynamoDB
 * index adapter (this folder), the local stack that creates the table and the CDK app that
 * declares it read this file; the domain never sees a key.
 *
 * Items (PK / SK):
 *   video     VIDEO#<videoId> / META
 *             byList:       VIDEOS / <revision began at>#<videoId>  (set once per revision: progress never moves it)
 *             byUnfinished: UNFINISHED / <updatedAt>#<videoId>      (present only while queued or processing)
 *   clip      VIDEO#<videoId> / CLIP#<rev>#<index, 6 digits>         (rev = revisionId(etag); large payloads in S3, see payloads.ts)
 *   segment   VIDEO#<videoId> / SEG#<timeline order>                 (core/index/order.ts timelineOrderOf)
 *             byList:       LABEL#<label>#<shard> / <rank>          (core/index/order.ts rankOf; shard from the video id)
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { revisionId } from '../../core/records.ts';
import { timelineOrderOf } from '../../core/index/order.ts';
import { INDEX_DEFAULTS } from '../../core/infra-definitions.ts';
import { TABLE } from '../../core/names.ts';
import type { TimelineSegment } from '../../core/index/port.ts';

/** The layout this code writes; 1 = the single GSI1 with every attribute projected (a table's indexes tell which it holds). */
export const LAYOUT_VERSION = 2;

export const KEYS = {
  partitionKey: 'PK',
  sortKey: 'SK',
  list: { name: 'byList', partitionKey: 'listPk', sortKey: 'listSk' },
  unfinished: { name: 'byUnfinished', partitionKey: 'sweepPk', sortKey: 'sweepSk' },
} as const;

const VIDEO_PK_PREFIX = 'VIDEO#';
export const VIDEO_META_SK = 'META';
export const CLIP_SK_PREFIX = 'CLIP#';
export const SEGMENT_SK_PREFIX = 'SEG#';
export const VIDEOS_LIST_PK = 'VIDEOS';
export const UNFINISHED_PK = 'UNFINISHED';
const LABEL_PK_PREFIX = 'LABEL#';

export function videoPk(videoId: string): string {
  return `${VIDEO_PK_PREFIX}${videoId}`;
}

export function videoKey(videoId: string): { PK: string; SK: string } {
  return { PK: videoPk(videoId), SK: VIDEO_META_SK };
}

/** The video's place in the listing (descending = most recent revision first). */
export function videoListSk(revisedAt: string, videoId: string): string {
  return `${revisedAt}#${videoId}`;
}

export function unfinishedSk(updatedAt: string, videoId: string): string {
  return `${updatedAt}#${videoId}`;
}

export function clipSkPrefix(etag: string): string {
  return `${CLIP_SK_PREFIX}${revisionId(etag)}#`;
}

export function clipSk(etag: string, index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`clip index must be a non-negative integer, got ${index}`);
  return `${clipSkPrefix(etag)}${String(index).padStart(6, '0')}`;
}

export function segmentSk(s: Pick<TimelineSegment, 'start' | 'label' | 'person'>): string {
  return `${SEGMENT_SK_PREFIX}${timelineOrderOf(s)}`;
}

/** Which shard of its label a video's segments go to: from the video id (hex), so one video's segments share one. */
export function shardOf(videoId: string, shards: number): number {
  const n = Number.parseInt(videoId.slice(0, 8), 16);
  return Number.isFinite(n) ? n % shards : 0;
}

export function labelListPk(label: string, shard: number): string {
  return `${LABEL_PK_PREFIX}${label}#${shard}`;
}

/** Default number of write shards per label (core/infra-definitions.ts INDEX_DEFAULTS, also read by the CDK config). */
export const DEFAULT_LABEL_SHARDS = INDEX_DEFAULTS.labelShards;

/**
 * What the listing index projects besides its keys: what a video listing and a label search
 * return, and nothing else (no boxes, no clip plans, no payloads), so its items stay small.
 */
export const LIST_PROJECTION = [
  // videos (core/records.ts VideoSummarySchema)
  'videoId', 'key', 'etag', 'status', 'reason', 'errorCode', 'duration', 'fps', 'width', 'height', 'model', 'trained', 'modelSha256',
  'indexedWith', 'coverAt', 'clipsTotal', 'doneClips', 'segments', 'createdAt', 'updatedAt', 'indexedAt',
  // segments (core/index/port.ts SegmentHit)
  'label', 'start', 'end', 'score', 'mean', 'windows', 'kind', 'person', 'thumbAt',
] as const;

export type AttributeType = 'S' | 'N' | 'B';

export interface KeyDefinition {
  readonly name: string;
  readonly type: AttributeType;
}

export type Projection = { readonly type: 'ALL' } | { readonly type: 'KEYS_ONLY' } | { readonly type: 'INCLUDE'; readonly attributes: readonly string[] };

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey: KeyDefinition;
  readonly projection: Projection;
}

export interface TableDefinition {
  readonly name: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey: KeyDefinition;
  /** On-demand capacity. */
  readonly billing: 'PAY_PER_REQUEST';
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
}

/** The table, shared by the CDK app (cdk/constructs/index-table.ts) and the local stack (cli/local/resources.ts). */
export const TABLE_DEFINITION: TableDefinition = {
  name: TABLE.name,
  partitionKey: { name: KEYS.partitionKey, type: 'S' },
  sortKey: { name: KEYS.sortKey, type: 'S' },
  billing: 'PAY_PER_REQUEST',
  globalSecondaryIndexes: [
    {
      name: KEYS.list.name,
      partitionKey: { name: KEYS.list.partitionKey, type: 'S' },
      sortKey: { name: KEYS.list.sortKey, type: 'S' },
      projection: { type: 'INCLUDE', attributes: LIST_PROJECTION },
    },
    {
      name: KEYS.unfinished.name,
      partitionKey: { name: KEYS.unfinished.partitionKey, type: 'S' },
      sortKey: { name: KEYS.unfinished.sortKey, type: 'S' },
      projection: { type: 'KEYS_ONLY' },
    },
  ],
};

/** The layout-1 index (one GSI1 over GSI1PK/GSI1SK, every attribute projected), for migrations. */
export const LAYOUT_1 = {
  index: 'GSI1',
  partitionKey: 'GSI1PK',
  sortKey: 'GSI1SK',
  videosPk: 'VIDEOS',
} as const;

/** The CreateTable request of a table definition (the local stack and the tests create it so). */
export function createTableInput(def: TableDefinition): CreateTableCommandInput {
  const attrs = new Map<string, AttributeType>();
  for (const k of [def.partitionKey, def.sortKey, ...def.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey])]) attrs.set(k.name, k.type);
  return {
    TableName: def.name,
    BillingMode: def.billing,
    AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: [
      { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: def.globalSecondaryIndexes.map((g) => ({
      IndexName: g.name,
      KeySchema: [
        { AttributeName: g.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: g.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: g.projection.type === 'INCLUDE' ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...g.projection.attributes] } : { ProjectionType: g.projection.type },
    })),
  };
}
