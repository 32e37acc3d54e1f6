/**
 * DynamoDB reads of the query API (the index layout is core/records.ts). Read-only; every
 * start key is rebuilt from the query's own partition (core/query/positions.ts).
 */
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput, type QueryCommandOutput, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { VidxError } from '../errors.ts';
import { TABLE } from '../names.ts';
import { SEGMENT_SK_PREFIX, VIDEOS_GSI_PK, labelGsiPk, videoKey, videoPk } from '../records.ts';
import { segmentStartKey, videoStartKey } from '../query/positions.ts';
import type { LabelStreamRead, LabelStreamReader, SegmentHit } from '../query/search.ts';
import { segmentHitOf } from '../query/views.ts';
import { INDEX_UNAVAILABLE } from '../query/http-errors.ts';

type Item = Record<string, NativeAttributeValue>;

/** Items per DynamoDB page when a filter may drop most of them. */
const FILTERED_PAGE = 200;
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
        throw new VidxError(INDEX_UNAVAILABLE, `the index table ${this.tableName} cannot be read`, {
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

  /**
   * One label's segments, best first, after `after`. minScore narrows the key range (the sort
   * key starts with 1-score) and is checked exactly by a filter; videoId is a filter (it comes
   * after the score in the sort key). Reads one item more than wanted to know if more exist.
   */
  async readLabel(read: LabelStreamRead): Promise<{ items: SegmentHit[]; more: boolean }> {
    const names: Record<string, string> = { '#pk': TABLE.labelIndex.partitionKey };
    const values: Record<string, NativeAttributeValue> = { ':pk': labelGsiPk(read.label) };
    let keyCondition = '#pk = :pk';
    const filters: string[] = [];
    if (read.minScore > 0) {
      names['#sk'] = TABLE.labelIndex.sortKey;
      names['#score'] = 'score';
      // toFixed is monotone, so every item with score >= minScore has a sort key <= this bound.
      values[':hi'] = `${(1 - read.minScore).toFixed(6)}#~`;
      values[':min'] = read.minScore;
      keyCondition += ' AND #sk <= :hi';
      filters.push('#score >= :min');
    }
    if (read.videoId !== undefined) {
      names['#vid'] = 'videoId';
      values[':vid'] = read.videoId;
      filters.push('#vid = :vid');
    }
    const want = read.want + 1;
    const items: Item[] = [];
    let start: Record<string, NativeAttributeValue> | undefined = read.after ? { ...segmentStartKey(read.label, read.after) } : undefined;
    do {
      const r = await this.query({
        TableName: this.tableName,
        IndexName: TABLE.labelIndex.name,
        KeyConditionExpression: keyCondition,
        FilterExpression: filters.length > 0 ? filters.join(' AND ') : undefined,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        Limit: filters.length > 0 ? Math.max(FILTERED_PAGE, want) : want - items.length,
        ExclusiveStartKey: start,
      });
      items.push(...(r.Items ?? []));
      start = r.LastEvaluatedKey;
    } while (start && items.length < want);
    return { items: items.slice(0, read.want).map(segmentHitOf), more: items.length > read.want };
  }
}
