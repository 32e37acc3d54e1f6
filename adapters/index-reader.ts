/**
 * DynamoDB reads of the query API (the index layout is core/records.ts). Read-only; every
 * start key is rebuilt from the query's own partition (core/query/positions.ts).
 */
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput, type QueryCommandOutput, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { VidxError } from '../core/errors.ts';
import { TABLE } from '../core/names.ts';
import { ClipRecordSchema, SEGMENT_SK_PREFIX, VIDEOS_GSI_PK, clipSkPrefix, labelGsiPk, videoKey, videoPk } from '../core/records.ts';
import type { StoredClip } from '../core/query/resegment.ts';
import { segmentStartKey, videoStartKey } from '../core/query/positions.ts';
import type { LabelStreamRead, LabelStreamReader, SegmentHit } from '../core/query/search.ts';
import { segmentHitOf } from '../core/query/views.ts';

type Item = Record<string, NativeAttributeValue>;

/** A video's timeline is read whole; this bounds it (a 3 h video has a few thousand segments). */
export const MAX_TIMELINE_SEGMENTS = 10_000;

export class IndexReader implements LabelStreamReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Sends a read; a missing table or an unreachable endpoint becomes INDEX_UNAVAILABLE (503). */
  private async guard<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (e instanceof ResourceNotFoundException || code === 'ECONNREFUSED' || code === 'ENOTFOUND') {
        throw new VidxError('INDEX_UNAVAILABLE', `the index table ${this.tableName} cannot be read`, {
          cause: e,
          hint: 'locally: start the stack with `npm start`; on AWS: check the deployment',
        });
      }
      throw e;
    }
  }

  private query(input: QueryCommandInput): Promise<QueryCommandOutput> {
    return this.guard(() => this.doc.send(new QueryCommand(input)));
  }

  async getVideo(videoId: string): Promise<Item | undefined> {
    const r = await this.guard(() => this.doc.send(new GetCommand({ TableName: this.tableName, Key: videoKey(videoId) })));
    return r.Item;
  }

  /** Videos newest first; `after` = GSI1SK of the last one already listed. */
  async listVideos(limit: number, after: string | undefined): Promise<{ items: Item[]; more: boolean }> {
    const items: Item[] = [];
    let start: Record<string, NativeAttributeValue> | undefined = after ? { ...videoStartKey(after) } : undefined;
    do {
      const r = await this.query({
        TableName: this.tableName,
        IndexName: TABLE.labelIndex.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE.labelIndex.partitionKey },
        ExpressionAttributeValues: { ':pk': VIDEOS_GSI_PK },
        ScanIndexForward: false,
        Limit: limit + 1 - items.length,
        ExclusiveStartKey: start,
      });
      items.push(...(r.Items ?? []));
      start = r.LastEvaluatedKey;
    } while (start && items.length <= limit);
    return { items: items.slice(0, limit), more: items.length > limit };
  }

  /** Every segment of a video, ordered by start (the sort key). */
  async segmentsOf(videoId: string): Promise<{ items: Item[]; truncated: boolean }> {
    const items: Item[] = [];
    let start: Record<string, NativeAttributeValue> | undefined;
    do {
      const r = await this.query({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :seg)',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
        ExpressionAttributeValues: { ':pk': videoPk(videoId), ':seg': SEGMENT_SK_PREFIX },
        ExclusiveStartKey: start,
      });
      items.push(...(r.Items ?? []));
      start = r.LastEvaluatedKey;
    } while (start && items.length < MAX_TIMELINE_SEGMENTS);
    return { items: items.slice(0, MAX_TIMELINE_SEGMENTS), truncated: items.length > MAX_TIMELINE_SEGMENTS || start !== undefined };
  }

  /** The clip items of one revision (their per-window scores), in clip order. */
  async clipsOf(videoId: string, etag: string): Promise<StoredClip[]> {
    const out: StoredClip[] = [];
    let start: Record<string, NativeAttributeValue> | undefined;
    do {
      const r = await this.query({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :clip)',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
        ExpressionAttributeValues: { ':pk': videoPk(videoId), ':clip': clipSkPrefix(etag) },
        ExclusiveStartKey: start,
      });
      for (const i of r.Items ?? []) {
        const c = ClipRecordSchema.parse(i);
        out.push({ index: c.index, windows: c.windows });
      }
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /**
   * One label's segments, best first, after `after`. Reads one item more than wanted to know
   * whether more exist.
   *
   * Without videoId: the label's GSI1 partition. minScore narrows the key range (the sort key
   * starts with 1-score) and is checked exactly by a filter.
   * With videoId: the video's own partition (its SEG# items, filtered to the label and
   * minScore, ordered by GSI1SK here). That costs the size of one video, whereas filtering
   * the label's partition by video would cost every segment of that label in the corpus.
   */
  async readLabel(read: LabelStreamRead): Promise<{ items: SegmentHit[]; more: boolean }> {
    if (read.videoId !== undefined) return this.readLabelInVideo(read, read.videoId);
    const names: Record<string, string> = { '#pk': TABLE.labelIndex.partitionKey };
    const values: Record<string, NativeAttributeValue> = { ':pk': labelGsiPk(read.label) };
    let keyCondition = '#pk = :pk';
    let filter: string | undefined;
    if (read.minScore > 0) {
      names['#sk'] = TABLE.labelIndex.sortKey;
      names['#score'] = 'score';
      // toFixed is monotone, so every item with score >= minScore has a sort key <= this bound.
      values[':hi'] = `${(1 - read.minScore).toFixed(6)}#~`;
      values[':min'] = read.minScore;
      keyCondition += ' AND #sk <= :hi';
      filter = '#score >= :min';
    }
    const want = read.want + 1;
    const items: Item[] = [];
    let start: Record<string, NativeAttributeValue> | undefined = read.after ? { ...segmentStartKey(read.label, read.after) } : undefined;
    do {
      const r = await this.query({
        TableName: this.tableName,
        IndexName: TABLE.labelIndex.name,
        KeyConditionExpression: keyCondition,
        FilterExpression: filter,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        Limit: want - items.length,
        ExclusiveStartKey: start,
      });
      items.push(...(r.Items ?? []));
      start = r.LastEvaluatedKey;
    } while (start && items.length < want);
    return { items: items.slice(0, read.want).map(segmentHitOf), more: items.length > read.want };
  }

  private async readLabelInVideo(read: LabelStreamRead, videoId: string): Promise<{ items: SegmentHit[]; more: boolean }> {
    if (read.after !== undefined) segmentStartKey(read.label, read.after); // shape check (throws INVALID_CURSOR)
    const hits: SegmentHit[] = [];
    let start: Record<string, NativeAttributeValue> | undefined;
    do {
      const r = await this.query({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :seg)',
        FilterExpression: '#label = :label AND #score >= :min',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey, '#label': 'label', '#score': 'score' },
        ExpressionAttributeValues: { ':pk': videoPk(videoId), ':seg': SEGMENT_SK_PREFIX, ':label': read.label, ':min': read.minScore },
        ExclusiveStartKey: start,
      });
      for (const i of r.Items ?? []) {
        const hit = segmentHitOf(i);
        if (read.after === undefined || hit.sortKey > read.after) hits.push(hit);
      }
      start = r.LastEvaluatedKey;
    } while (start);
    hits.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    return { items: hits.slice(0, read.want), more: hits.length > read.want };
  }
}
