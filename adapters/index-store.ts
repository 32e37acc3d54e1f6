/**
 * The DynamoDB index as the segmenter and the worker use it. Every write is idempotent or
 * guarded by a condition on the video's etag (the revision), because every arrow upstream is
 * at-least-once and there are no transactions (dynalite has none).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
  type DynamoDBDocumentClient,
  type NativeAttributeValue,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../core/names.ts';
import {
  ClipRecordSchema,
  SEGMENT_SK_PREFIX,
  VIDEOS_GSI_PK,
  VideoRecordSchema,
  clipSk,
  clipSkPrefix,
  videoGsiSk,
  videoKey,
  videoPk,
  ModelRefSchema,
  GapSchema,
  type ClipRecord,
  type Gap,
  type ModelRef,
  type SegmentRecord,
  type VideoRecord,
} from '../core/records.ts';
import type { BeginResult, PipelineIndex, RevisionFacts } from '../core/pipeline/ports.ts';

type Item = Record<string, NativeAttributeValue>;

export class IndexStore implements PipelineIndex {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async getVideo(videoId: string, consistent = true): Promise<VideoRecord | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: videoKey(videoId), ConsistentRead: consistent }));
    return r.Item ? parseVideo(r.Item) : undefined;
  }

  /**
   * Records a revision (one etag of the object) unless that etag is already recorded: a second
   * event for the same (key, etag) changes nothing and returns the existing record. A new etag
   * resets the done set; `enqueued` stays false until the caller has sent every clip job.
   */
  async beginRevision(f: RevisionFacts, options: { replaceFailed?: boolean } = {}): Promise<BeginResult> {
    const now = this.now().toISOString();
    const set: Record<string, NativeAttributeValue> = {
      GSI1PK: VIDEOS_GSI_PK,
      GSI1SK: videoGsiSk(now, f.videoId),
      videoId: f.videoId,
      bucket: f.bucket,
      key: f.key,
      etag: f.etag,
      size: f.size,
      status: f.status,
      reason: f.reason,
      errorCode: f.errorCode,
      duration: f.duration,
      fps: f.fps,
      width: f.width,
      height: f.height,
      rotation: f.rotation,
      codec: f.codec,
      model: f.model,
      trained: f.trained,
      modelSha256: f.modelSha256,
      clipsTotal: f.clipsTotal,
      clipSeconds: f.clipSeconds,
      clipStarts: f.clipStarts,
      requeues: undefined,
      enqueued: false,
      updatedAt: now,
    };
    const names: Record<string, string> = { '#createdAt': 'createdAt', '#etag': 'etag', '#PK': 'PK' };
    const values: Record<string, NativeAttributeValue> = { ':now': now, ':etag': f.etag };
    if (options.replaceFailed) values[':failedStatus'] = 'failed';
    const sets: string[] = ['#createdAt = if_not_exists(#createdAt, :now)'];
    const removes: string[] = ['doneClips', 'indexedAt', 'notifiedEvent', 'gaps'];
    for (const [k, v] of Object.entries(set)) {
      names[`#${k}`] = k;
      if (v === undefined) {
        removes.push(`#${k}`);
      } else {
        values[`:${k}`] = v;
        sets.push(`#${k} = :${k}`);
      }
    }
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: videoKey(f.videoId),
          UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
          // The status name is also a SET target (#status): the condition reads the value before the update.
          ConditionExpression: `attribute_not_exists(#PK) OR #etag <> :etag${options.replaceFailed ? ' OR #status = :failedStatus' : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { created: true, video: parseVideo(r.Attributes ?? {}) };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const video = await this.getVideo(f.videoId);
      if (!video) throw e; // the condition failed on an item that is gone: let the event be retried
      return { created: false, video };
    }
  }

  /** Notes that every clip job of this revision was sent (a retried event then sends nothing). */
  async markEnqueued(videoId: string, etag: string): Promise<boolean> {
    return this.guardedUpdate(videoId, etag, 'SET #enqueued = :true', { '#enqueued': 'enqueued' }, { ':true': true });
  }

  /** queued -> processing, once, for the current revision. */
  async markProcessing(videoId: string, etag: string): Promise<boolean> {
    const now = this.now().toISOString();
    return this.guardedUpdate(
      videoId,
      etag,
      'SET #status = :processing, #updatedAt = :now, #GSI1SK = :gsk',
      { '#status': 'status', '#updatedAt': 'updatedAt', '#GSI1SK': 'GSI1SK' },
      { ':processing': 'processing', ':queued': 'queued', ':now': now, ':gsk': videoGsiSk(now, videoId) },
      '#status = :queued',
    );
  }

  /** The current revision failed for good (for a person: `reason`). */
  async markFailed(videoId: string, etag: string, errorCode: string, reason: string): Promise<boolean> {
    const now = this.now().toISOString();
    return this.guardedUpdate(
      videoId,
      etag,
      'SET #status = :failed, #reason = :reason, #errorCode = :code, #updatedAt = :now, #GSI1SK = :gsk',
      { '#status': 'status', '#reason': 'reason', '#errorCode': 'errorCode', '#updatedAt': 'updatedAt', '#GSI1SK': 'GSI1SK' },
      { ':failed': 'failed', ':reason': reason, ':code': errorCode, ':now': now, ':gsk': videoGsiSk(now, videoId) },
    );
  }

  /**
   * Marks the revision indexed with its segment count (only if it is still the current one and not
   * failed): `indexed_with_gaps` with the gaps when some clips failed for good, else `indexed`;
   * `coverAt` = the time of the thumbnail that stands for the video (its best segment's).
   */
  async markIndexed(videoId: string, etag: string, segments: number, made?: ModelRef, coverAt?: number, gaps: readonly Gap[] = []): Promise<boolean> {
    const now = this.now().toISOString();
    const cover = coverAt !== undefined;
    const withGaps = gaps.length > 0;
    return this.guardedUpdate(
      videoId,
      etag,
      `SET #status = :indexed, #segments = :n, #indexedAt = :now, #updatedAt = :now, #GSI1SK = :gsk${made ? ', #made = :made' : ''}${cover ? ', #coverAt = :cover' : ''}${withGaps ? ', #gaps = :gaps' : ''} REMOVE #reason, #errorCode${cover ? '' : ', #coverAt'}${withGaps ? '' : ', #gaps'}`,
      { '#status': 'status', '#segments': 'segments', '#indexedAt': 'indexedAt', '#updatedAt': 'updatedAt', '#GSI1SK': 'GSI1SK', '#reason': 'reason', '#errorCode': 'errorCode', '#coverAt': 'coverAt', '#gaps': 'gaps', ...(made ? { '#made': 'indexedWith' } : {}) },
      {
        ':indexed': withGaps ? 'indexed_with_gaps' : 'indexed', ':failed': 'failed', ':n': segments, ':now': now, ':gsk': videoGsiSk(now, videoId),
        ...(made ? { ':made': ModelRefSchema.parse(made) } : {}),
        ...(cover ? { ':cover': coverAt } : {}),
        ...(withGaps ? { ':gaps': gaps.map((g) => GapSchema.parse(g)) } : {}),
      },
      '#status <> :failed',
    );
  }

  /** Every video record (the GSI's VIDEOS partition, newest first): for re-index --all and recovery. */
  async listVideos(): Promise<VideoRecord[]> {
    const items = await this.queryAll({
      IndexName: TABLE.labelIndex.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE.labelIndex.partitionKey },
      ExpressionAttributeValues: { ':pk': VIDEOS_GSI_PK },
      ScanIndexForward: false,
    });
    return items.map(parseVideo);
  }

  async claimRequeue(video: Pick<VideoRecord, 'videoId' | 'etag' | 'updatedAt'>): Promise<VideoRecord | undefined> {
    const now = this.now().toISOString();
    const item = await this.updateIf({
      Key: videoKey(video.videoId),
      UpdateExpression: 'SET #requeues = if_not_exists(#requeues, :zero) + :one, #updatedAt = :now, #GSI1SK = :gsk',
      ConditionExpression: '#etag = :etag AND #updatedAt = :seen AND #status IN (:queued, :processing)',
      ExpressionAttributeNames: { '#requeues': 'requeues', '#updatedAt': 'updatedAt', '#GSI1SK': 'GSI1SK', '#etag': 'etag', '#status': 'status' },
      ExpressionAttributeValues: {
        ':zero': 0, ':one': 1, ':now': now, ':gsk': videoGsiSk(now, video.videoId), ':etag': video.etag, ':seen': video.updatedAt,
        ':queued': 'queued', ':processing': 'processing',
      },
    });
    return item && parseVideo(item);
  }

  async claimEnqueue(video: Pick<VideoRecord, 'videoId' | 'etag' | 'updatedAt'>): Promise<VideoRecord | undefined> {
    const now = this.now().toISOString();
    const item = await this.updateIf({
      Key: videoKey(video.videoId),
      UpdateExpression: 'SET #updatedAt = :now, #GSI1SK = :gsk',
      ConditionExpression: '#etag = :etag AND #updatedAt = :seen AND #status = :queued AND (attribute_not_exists(#enqueued) OR #enqueued = :false)',
      ExpressionAttributeNames: { '#updatedAt': 'updatedAt', '#GSI1SK': 'GSI1SK', '#etag': 'etag', '#status': 'status', '#enqueued': 'enqueued' },
      ExpressionAttributeValues: { ':now': now, ':gsk': videoGsiSk(now, video.videoId), ':etag': video.etag, ':seen': video.updatedAt, ':queued': 'queued', ':false': false },
    });
    return item && parseVideo(item);
  }

  /**
   * Reads the VIDEOS partition of GSI1 (sort key <updatedAt>#<videoId>) below `before`, keeping the
   * unfinished ones. Cost grows with the number of videos last touched before the cutoff; see
   * docs/decisions.md (sweeper).
   */
  async unfinishedBefore(before: string, limit: number): Promise<VideoRecord[]> {
    const items = await this.queryAll(
      {
        IndexName: TABLE.labelIndex.name,
        KeyConditionExpression: '#pk = :pk AND #sk < :before',
        FilterExpression: '#status IN (:queued, :processing)',
        ExpressionAttributeNames: { '#pk': TABLE.labelIndex.partitionKey, '#sk': TABLE.labelIndex.sortKey, '#status': 'status' },
        ExpressionAttributeValues: { ':pk': VIDEOS_GSI_PK, ':before': before, ':queued': 'queued', ':processing': 'processing' },
      },
      limit,
    );
    return items.map(parseVideo);
  }

  /** Records that the revision's done/failed event was delivered (core/pipeline/notify.ts). */
  async markNotified(videoId: string, etag: string, eventId: string): Promise<boolean> {
    return this.guardedUpdate(videoId, etag, 'SET #notified = :id', { '#notified': 'notifiedEvent' }, { ':id': eventId });
  }

  /** Writes one clip's result; the key is deterministic per revision, so a rewrite is identical. */
  async putClip(clip: Omit<ClipRecord, 'PK' | 'SK' | 'createdAt'>): Promise<void> {
    const item: ClipRecord = { ...clip, PK: videoPk(clip.videoId), SK: clipSk(clip.etag, clip.index), createdAt: this.now().toISOString() };
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: ClipRecordSchema.parse(item) }));
  }

  async getClip(videoId: string, etag: string, index: number): Promise<ClipRecord | undefined> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { PK: videoPk(videoId), SK: clipSk(etag, index) }, ConsistentRead: true }),
    );
    return r.Item ? ClipRecordSchema.parse(r.Item) : undefined;
  }

  /**
   * Adds a clip to the revision's done set (a number set: adding twice is a no-op) and returns the
   * record after the update, or undefined when the revision is no longer current or has failed.
   */
  async addDoneClip(videoId: string, etag: string, index: number): Promise<VideoRecord | undefined> {
    const now = this.now().toISOString();
    const item = await this.updateIf({
      Key: videoKey(videoId),
      UpdateExpression: 'ADD #done :idx SET #updatedAt = :now, #GSI1SK = :gsk',
      ConditionExpression: '#etag = :etag AND #status <> :failed',
      ExpressionAttributeNames: { '#done': 'doneClips', '#updatedAt': 'updatedAt', '#etag': 'etag', '#status': 'status', '#GSI1SK': 'GSI1SK' },
      ExpressionAttributeValues: { ':idx': new Set([index]), ':now': now, ':etag': etag, ':failed': 'failed', ':gsk': videoGsiSk(now, videoId) },
    });
    return item && parseVideo(item);
  }

  /** Every clip item of one revision, in index order (consistent read). */
  async clipsOf(videoId: string, etag: string): Promise<ClipRecord[]> {
    const items = await this.queryPrefix(videoId, clipSkPrefix(etag));
    return items.map((i) => ClipRecordSchema.parse(i));
  }

  /** Keys of every item under an SK prefix of one video. */
  async keysUnder(videoId: string, prefix: string): Promise<{ PK: string; SK: string }[]> {
    const items = await this.queryPrefix(videoId, prefix, 'PK, SK');
    return items.map((i) => ({ PK: String(i.PK), SK: String(i.SK) }));
  }

  async segmentsOf(videoId: string): Promise<SegmentRecord[]> {
    return (await this.queryPrefix(videoId, SEGMENT_SK_PREFIX)) as SegmentRecord[];
  }

  /**
   * Deletes every segment and clip item of a video (all revisions). Used when the current
   * revision failed: the object in S3 is no longer the video the old timeline described.
   */
  async deleteDerived(videoId: string): Promise<number> {
    const keys = [...(await this.keysUnder(videoId, SEGMENT_SK_PREFIX)), ...(await this.keysUnder(videoId, 'CLIP#'))];
    await this.batchWrite([], keys);
    return keys.length;
  }

  async setThumbAt(videoId: string, sk: string, etag: string, at: number): Promise<boolean> {
    const item = await this.updateIf({
      Key: { PK: videoPk(videoId), SK: sk },
      UpdateExpression: 'SET #thumbAt = :at',
      ConditionExpression: 'attribute_exists(#PK) AND #etag = :etag',
      ExpressionAttributeNames: { '#thumbAt': 'thumbAt', '#PK': 'PK', '#etag': 'etag' },
      ExpressionAttributeValues: { ':at': at, ':etag': etag },
    });
    return item !== undefined;
  }

  /** BatchWriteItem, 25 per call, unprocessed items retried with backoff. */
  async batchWrite(puts: readonly Item[], deletes: readonly { PK: string; SK: string }[]): Promise<void> {
    const requests = [
      ...puts.map((Item) => ({ PutRequest: { Item } })),
      ...deletes.map((Key) => ({ DeleteRequest: { Key } })),
    ];
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((res) => setTimeout(res, Math.min(2000, 50 * 2 ** attempt)));
        if (attempt > 10) throw new Error(`BatchWriteItem left ${pending.length} item(s) unprocessed after ${attempt} attempts`);
        const r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (r.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
      }
    }
  }

  private async queryPrefix(videoId: string, prefix: string, projection?: string): Promise<Item[]> {
    return this.queryAll({
      KeyConditionExpression: '#PK = :pk AND begins_with(#SK, :prefix)',
      ExpressionAttributeNames: { '#PK': 'PK', '#SK': 'SK' },
      ExpressionAttributeValues: { ':pk': videoPk(videoId), ':prefix': prefix },
      ConsistentRead: true,
      ProjectionExpression: projection,
    });
  }

  /** Every item a query matches, page after page, stopping once `limit` items are in. */
  private async queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>, limit = Infinity): Promise<Item[]> {
    const out: Item[] = [];
    let start: Item | undefined;
    do {
      const r = await this.doc.send(new QueryCommand({ TableName: this.tableName, ...input, ExclusiveStartKey: start }));
      for (const item of r.Items ?? []) if (out.length < limit) out.push(item);
      start = r.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  /** Update guarded by "this etag is the video's current revision" (+ an extra condition). */
  private async guardedUpdate(
    videoId: string,
    etag: string,
    update: string,
    names: Record<string, string>,
    values: Record<string, NativeAttributeValue>,
    extraCondition?: string,
  ): Promise<boolean> {
    const item = await this.updateIf({
      Key: videoKey(videoId),
      UpdateExpression: update,
      ConditionExpression: `#etag = :etag${extraCondition ? ` AND ${extraCondition}` : ''}`,
      ExpressionAttributeNames: { ...names, '#etag': 'etag' },
      ExpressionAttributeValues: { ...values, ':etag': etag },
    });
    return item !== undefined;
  }

  /** An update under a condition: the item as it is after it, or undefined when the condition did not hold. */
  private async updateIf(input: Omit<UpdateCommandInput, 'TableName' | 'ReturnValues'>): Promise<Item | undefined> {
    try {
      const r = await this.doc.send(new UpdateCommand({ TableName: this.tableName, ...input, ReturnValues: 'ALL_NEW' }));
      return r.Attributes ?? {};
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return undefined;
      throw e;
    }
  }
}

function parseVideo(item: Item): VideoRecord {
  const done = item.doneClips instanceof Set ? [...(item.doneClips as Set<number>)].sort((a, b) => a - b) : [];
  return VideoRecordSchema.parse({ ...item, doneClips: done });
}
