/**
 * The index over one DynamoDB table (layout.ts): the only code that knows its keys, its pages,
 * its batches, its item sizes and its errors. Every write is idempotent or guarded by a
 * condition on the video's etag (the revision), because every arrow upstream is at-least-once
 * and there are no transactions (dynalite has none).
 */
import { ConditionalCheckFailedException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type NativeAttributeValue,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { VidxError } from '../../core/errors.ts';
import { hitOf } from '../../core/index/hits.ts';
import { RANK_PATTERN, rankOf } from '../../core/index/order.ts';
import type { BeginResult, ClipRead, LabelHits, LabelSearch, Page, RevisionFacts, SegmentHit, TimelineOwner, TimelineSegment, VideoIndex } from '../../core/index/port.ts';
import {
  ClipRecordSchema,
  GapSchema,
  ModelRefSchema,
  SegmentRecordSchema,
  VideoRecordSchema,
  VideoSummarySchema,
  type ClipRecord,
  type ClipResult,
  type Gap,
  type ModelRef,
  type SegmentRecord,
  type VideoRecord,
  type VideoSummary,
} from '../../core/records.ts';
import {
  CLIP_SK_PREFIX,
  DEFAULT_LABEL_SHARDS,
  KEYS,
  SEGMENT_SK_PREFIX,
  UNFINISHED_PK,
  VIDEOS_LIST_PK,
  clipSk,
  clipSkPrefix,
  labelListPk,
  segmentSk,
  shardOf,
  unfinishedSk,
  videoKey,
  videoListSk,
  videoPk,
} from './layout.ts';
import { payloadKey, type PayloadPointer, type PayloadStore } from './payloads.ts';
import { ITEM_LIMIT_BYTES, itemSize } from './sizes.ts';

type Item = Record<string, NativeAttributeValue>;

/** A clip item above this size (DynamoDB's rules) keeps its payload in S3 instead. */
export const INLINE_CLIP_LIMIT_BYTES = 32 * 1024;
/** The largest payload object a clip may have (bigger = CLIP_TOO_LARGE: a planning mistake, not data to keep). */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** Attributes a search hit needs (what the API shows, its rank, revision and thumbnail time). */
const HIT_ATTRIBUTES = ['videoId', 'key', 'etag', 'label', 'start', 'end', 'score', 'mean', 'windows', 'kind', 'person', 'thumbAt', KEYS.list.sortKey];

/** A shard's stream has nothing more (its place in a composite position). */
const SHARD_DONE = '~';

export interface DynamoIndexOptions {
  /** Write shards per label (every process of a deployment must agree; default INDEX_DEFAULTS.labelShards). */
  labelShards?: number | undefined;
  /** Where large clip payloads go (absent: a clip too large for an item fails as CLIP_TOO_LARGE). */
  payloads?: PayloadStore | undefined;
  now?: () => Date;
}

function invalidPosition(what: string): VidxError {
  return new VidxError('INVALID_CURSOR', `cursor position is not a ${what} position`, { hint: 'pass back the nextCursor of the previous page unchanged, with the same query' });
}

/** Values of a `#name` / `:value` expression built from a list of attribute names. */
function projection(attributes: readonly string[]): { ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> } {
  const names: Record<string, string> = {};
  attributes.forEach((a, i) => (names[`#p${i}`] = a));
  return { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names };
}

export class DynamoIndex implements VideoIndex {
  readonly labelShards: number;
  private readonly payloads: PayloadStore | undefined;
  private readonly now: () => Date;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    options: DynamoIndexOptions = {},
  ) {
    this.labelShards = options.labelShards ?? DEFAULT_LABEL_SHARDS;
    if (!Number.isInteger(this.labelShards) || this.labelShards < 1 || this.labelShards > 64) throw new VidxError('INVALID_SETTING', `label shards must be an integer from 1 to 64, got ${this.labelShards}`);
    this.payloads = options.payloads;
    this.now = options.now ?? (() => new Date());
  }

  // ------------------------------------------------------------------------------------------
  // Plumbing: error mapping, pages, batches, conditions

  /** Sends a request; a missing table or an unreachable endpoint becomes INDEX_UNAVAILABLE. */
  private async send<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (e instanceof ResourceNotFoundException || code === 'ECONNREFUSED' || code === 'ENOTFOUND') {
        throw new VidxError('INDEX_UNAVAILABLE', `the index table ${this.tableName} cannot be reached`, {
          cause: e,
          hint: 'locally: start the stack with `npm start`; on AWS: check the deployment',
        });
      }
      throw e;
    }
  }

  /**
   * Items a query matches, page after page, from `start`, until more than `limit` are in (one
   * more than wanted, so `more` is exact); without a limit, every page.
   */
  private async query(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>, limit = Infinity, start?: Item): Promise<{ items: Item[]; more: boolean }> {
    const items: Item[] = [];
    let from = start;
    do {
      const pageLimit = Number.isFinite(limit) && !input.FilterExpression ? limit + 1 - items.length : undefined;
      const r = await this.send(() => this.doc.send(new QueryCommand({ TableName: this.tableName, ...input, ...(pageLimit !== undefined ? { Limit: pageLimit } : {}), ExclusiveStartKey: from })));
      items.push(...(r.Items ?? []));
      from = r.LastEvaluatedKey;
    } while (from && items.length <= limit);
    return { items: items.slice(0, limit), more: items.length > limit };
  }

  /** BatchWriteItem, 25 per call, unprocessed items retried with backoff. */
  private async batchWrite(puts: readonly Item[], deletes: readonly { PK: string; SK: string }[]): Promise<void> {
    const requests = [...puts.map((Item) => ({ PutRequest: { Item } })), ...deletes.map((Key) => ({ DeleteRequest: { Key } }))];
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 10) throw new Error(`BatchWriteItem left ${pending.length} item(s) unprocessed after ${attempt} attempts`);
        if (attempt > 0) await new Promise((res) => setTimeout(res, Math.min(2000, 50 * 2 ** attempt)));
        const r = await this.send(() => this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } })));
        pending = (r.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
      }
    }
  }

  /** An update under a condition: the item after it, or undefined when the condition did not hold. */
  private async updateIf(input: Omit<UpdateCommandInput, 'TableName' | 'ReturnValues'>): Promise<Item | undefined> {
    try {
      const r = await this.send(() => this.doc.send(new UpdateCommand({ TableName: this.tableName, ...input, ReturnValues: 'ALL_NEW' })));
      return r.Attributes ?? {};
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return undefined;
      throw e;
    }
  }

  /**
   * An update of the current revision's record (+ an extra condition). `progress` = the update
   * is progress of an unfinished video: its place in the sweeper's index moves with it.
   */
  private async updateVideo(
    videoId: string,
    etag: string,
    set: string[],
    names: Record<string, string>,
    values: Record<string, NativeAttributeValue>,
    extra: { condition?: string; remove?: string[]; add?: string } = {},
  ): Promise<VideoRecord | undefined> {
    const clauses = [`SET ${set.join(', ')}`];
    if (extra.add) clauses.push(`ADD ${extra.add}`);
    if (extra.remove && extra.remove.length > 0) clauses.push(`REMOVE ${extra.remove.join(', ')}`);
    const item = await this.updateIf({
      Key: videoKey(videoId),
      UpdateExpression: clauses.join(' '),
      ConditionExpression: `#etag = :etag${extra.condition ? ` AND ${extra.condition}` : ''}`,
      ExpressionAttributeNames: { ...names, '#etag': 'etag' },
      ExpressionAttributeValues: { ...values, ':etag': etag },
    });
    return item && parseVideo(item);
  }

  // ------------------------------------------------------------------------------------------
  // Videos

  async getVideo(videoId: string, opts: { consistent?: boolean } = {}): Promise<VideoRecord | undefined> {
    const r = await this.send(() => this.doc.send(new GetCommand({ TableName: this.tableName, Key: videoKey(videoId), ConsistentRead: opts.consistent ?? true })));
    return r.Item ? parseVideo(r.Item) : undefined;
  }

  async beginRevision(f: RevisionFacts, options: { replaceFailed?: boolean } = {}): Promise<BeginResult> {
    const now = this.now().toISOString();
    const unfinished = f.status === 'queued';
    const set: Record<string, NativeAttributeValue> = {
      [KEYS.list.partitionKey]: VIDEOS_LIST_PK,
      [KEYS.list.sortKey]: videoListSk(now, f.videoId),
      [KEYS.unfinished.partitionKey]: unfinished ? UNFINISHED_PK : undefined,
      [KEYS.unfinished.sortKey]: unfinished ? unfinishedSk(now, f.videoId) : undefined,
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
      clipUnits: f.clipUnits,
      clipWindows: {},
      workStartedAt: undefined,
      requeues: undefined,
      enqueued: false,
      updatedAt: now,
    };
    const names: Record<string, string> = { '#createdAt': 'createdAt', '#etag': 'etag', '#PK': KEYS.partitionKey };
    const values: Record<string, NativeAttributeValue> = { ':now': now, ':etag': f.etag };
    if (options.replaceFailed) {
      names['#status'] = 'status';
      values[':failedStatus'] = 'failed';
    }
    const sets: string[] = ['#createdAt = if_not_exists(#createdAt, :now)'];
    const removes: string[] = ['doneClips', 'indexedAt', 'notifiedEvent', 'gaps'];
    Object.entries(set).forEach(([k, v], i) => {
      names[`#a${i}`] = k;
      if (v === undefined) removes.push(`#a${i}`);
      else {
        values[`:a${i}`] = v;
        sets.push(`#a${i} = :a${i}`);
      }
    });
    try {
      const r = await this.send(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: videoKey(f.videoId),
            UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
            // The status is also a SET target (as #aN): the condition reads the value before the update.
            ConditionExpression: `attribute_not_exists(#PK) OR #etag <> :etag${options.replaceFailed ? ' OR #status = :failedStatus' : ''}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { created: true, video: parseVideo(r.Attributes ?? {}) };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const video = await this.getVideo(f.videoId);
      if (!video) throw e; // the condition failed on an item that is gone: let the event be retried
      return { created: false, video };
    }
  }

  async claimEnqueue(video: Pick<VideoRecord, 'videoId' | 'etag' | 'updatedAt'>): Promise<VideoRecord | undefined> {
    // Progress of an unfinished revision: its time and its place in the sweeper's index move (its listing place does not).
    const p = this.progress(this.now().toISOString(), video.videoId);
    return this.updateVideo(
      video.videoId,
      video.etag,
      p.set,
      { ...p.names, '#status': 'status', '#enqueued': 'enqueued' },
      { ...p.values, ':seen': video.updatedAt, ':queued': 'queued', ':false': false },
      { condition: '#updatedAt = :seen AND #status = :queued AND (attribute_not_exists(#enqueued) OR #enqueued = :false)' },
    );
  }

  async markEnqueued(videoId: string, etag: string): Promise<boolean> {
    return (await this.updateVideo(videoId, etag, ['#enqueued = :true'], { '#enqueued': 'enqueued' }, { ':true': true })) !== undefined;
  }

  /** Sets what progress of an unfinished revision sets: its time, and its place in the sweeper's index. */
  private progress(now: string, videoId: string): { set: string[]; names: Record<string, string>; values: Record<string, NativeAttributeValue> } {
    return {
      set: ['#updatedAt = :now', '#sweepSk = :sweepSk'],
      names: { '#updatedAt': 'updatedAt', '#sweepSk': KEYS.unfinished.sortKey },
      values: { ':now': now, ':sweepSk': unfinishedSk(now, videoId) },
    };
  }

  async markProcessing(videoId: string, etag: string): Promise<boolean> {
    const p = this.progress(this.now().toISOString(), videoId);
    const r = await this.updateVideo(videoId, etag, ['#status = :processing', ...p.set, '#sweepPk = :sweepPk'], { ...p.names, '#status': 'status', '#sweepPk': KEYS.unfinished.partitionKey }, { ...p.values, ':processing': 'processing', ':queued': 'queued', ':sweepPk': UNFINISHED_PK }, { condition: '#status = :queued' });
    return r !== undefined;
  }

  async recordClipProgress(videoId: string, etag: string, index: number, done: number): Promise<boolean> {
    const now = this.now().toISOString();
    const item = await this.updateIf({
      Key: videoKey(videoId),
      UpdateExpression: 'SET #cw.#i = :n, #started = if_not_exists(#started, :now)',
      // The map exists on every revision begun since progress is recorded; an older one is left alone.
      ConditionExpression: '#etag = :etag AND #status <> :failed AND attribute_exists(#cw) AND (attribute_not_exists(#cw.#i) OR #cw.#i < :n)',
      ExpressionAttributeNames: { '#cw': 'clipWindows', '#i': String(index), '#started': 'workStartedAt', '#etag': 'etag', '#status': 'status' },
      ExpressionAttributeValues: { ':n': done, ':now': now, ':etag': etag, ':failed': 'failed' },
    });
    return item !== undefined;
  }

  async markClipDone(videoId: string, etag: string, index: number): Promise<VideoRecord | undefined> {
    // The sweeper's sort key moves with progress; it is only indexed while the video is unfinished
    // (its partition key is present only then), so on a finished video it is an inert attribute.
    const p = this.progress(this.now().toISOString(), videoId);
    return this.updateVideo(videoId, etag, p.set, { ...p.names, '#done': 'doneClips', '#status': 'status' }, { ...p.values, ':idx': new Set([index]), ':failed': 'failed' }, { condition: '#status <> :failed', add: '#done :idx' });
  }

  async markFailed(videoId: string, etag: string, errorCode: string, reason: string): Promise<boolean> {
    const now = this.now().toISOString();
    const r = await this.updateVideo(
      videoId,
      etag,
      ['#status = :failed', '#reason = :reason', '#errorCode = :code', '#updatedAt = :now'],
      { '#status': 'status', '#reason': 'reason', '#errorCode': 'errorCode', '#updatedAt': 'updatedAt', '#sweepPk': KEYS.unfinished.partitionKey, '#sweepSk': KEYS.unfinished.sortKey },
      { ':failed': 'failed', ':reason': reason, ':code': errorCode, ':now': now },
      { remove: ['#sweepPk', '#sweepSk'] },
    );
    return r !== undefined;
  }

  async commitTimeline(videoId: string, etag: string, segments: number, made?: ModelRef, coverAt?: number, gaps: readonly Gap[] = []): Promise<boolean> {
    const now = this.now().toISOString();
    const cover = coverAt !== undefined;
    const withGaps = gaps.length > 0;
    const r = await this.updateVideo(
      videoId,
      etag,
      ['#status = :indexed', '#segments = :n', '#indexedAt = :now', '#updatedAt = :now', ...(made ? ['#made = :made'] : []), ...(cover ? ['#coverAt = :cover'] : []), ...(withGaps ? ['#gaps = :gaps'] : [])],
      {
        '#status': 'status', '#segments': 'segments', '#indexedAt': 'indexedAt', '#updatedAt': 'updatedAt', '#reason': 'reason', '#errorCode': 'errorCode', '#coverAt': 'coverAt', '#gaps': 'gaps',
        '#sweepPk': KEYS.unfinished.partitionKey, '#sweepSk': KEYS.unfinished.sortKey, ...(made ? { '#made': 'indexedWith' } : {}),
      },
      {
        ':indexed': withGaps ? 'indexed_with_gaps' : 'indexed', ':failed': 'failed', ':n': segments, ':now': now,
        ...(made ? { ':made': ModelRefSchema.parse(made) } : {}),
        ...(cover ? { ':cover': coverAt } : {}),
        ...(withGaps ? { ':gaps': gaps.map((g) => GapSchema.parse(g)) } : {}),
      },
      { condition: '#status <> :failed', remove: ['#reason', '#errorCode', '#sweepPk', '#sweepSk', ...(cover ? [] : ['#coverAt']), ...(withGaps ? [] : ['#gaps'])] },
    );
    return r !== undefined;
  }

  async setCover(videoId: string, etag: string, coverAt: number): Promise<boolean> {
    return (await this.updateVideo(videoId, etag, ['#coverAt = :cover'], { '#coverAt': 'coverAt' }, { ':cover': coverAt })) !== undefined;
  }

  async markNotified(videoId: string, etag: string, eventId: string): Promise<boolean> {
    return (await this.updateVideo(videoId, etag, ['#notified = :id'], { '#notified': 'notifiedEvent' }, { ':id': eventId })) !== undefined;
  }

  async claimRequeue(video: Pick<VideoRecord, 'videoId' | 'etag' | 'updatedAt'>): Promise<VideoRecord | undefined> {
    const p = this.progress(this.now().toISOString(), video.videoId);
    return this.updateVideo(
      video.videoId,
      video.etag,
      ['#requeues = if_not_exists(#requeues, :zero) + :one', ...p.set],
      { ...p.names, '#requeues': 'requeues', '#status': 'status' },
      { ...p.values, ':zero': 0, ':one': 1, ':seen': video.updatedAt, ':queued': 'queued', ':processing': 'processing' },
      { condition: '#updatedAt = :seen AND #status IN (:queued, :processing)' },
    );
  }

  async listVideos(page: { limit: number; after?: string | undefined }): Promise<Page<VideoSummary>> {
    let start: Item | undefined;
    if (page.after !== undefined) {
      const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z)#([0-9a-f]{20})$/.exec(page.after);
      if (!m) throw invalidPosition('video');
      // Rebuilt from the query's own partition: a position can only move within the listing.
      start = { ...videoKey(m[2]!), [KEYS.list.partitionKey]: VIDEOS_LIST_PK, [KEYS.list.sortKey]: page.after };
    }
    const r = await this.query(
      {
        IndexName: KEYS.list.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': KEYS.list.partitionKey },
        ExpressionAttributeValues: { ':pk': VIDEOS_LIST_PK },
        ScanIndexForward: false,
      },
      page.limit,
      start,
    );
    const last = r.items[r.items.length - 1];
    return { items: r.items.map(parseSummary), ...(r.more && last ? { next: String(last[KEYS.list.sortKey]) } : {}) };
  }

  async allVideos(): Promise<VideoRecord[]> {
    const listed = await this.query({
      IndexName: KEYS.list.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': KEYS.list.partitionKey },
      ExpressionAttributeValues: { ':pk': VIDEOS_LIST_PK },
      ScanIndexForward: false,
    });
    return this.videosById(listed.items.map((i) => String(i.videoId)));
  }

  /** Whole records of these videos, in this order (BatchGetItem, 100 per call, unprocessed keys retried). */
  private async videosById(ids: readonly string[]): Promise<VideoRecord[]> {
    const byId = new Map<string, VideoRecord>();
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Item[] = ids.slice(i, i + 100).map(videoKey);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 10) throw new Error(`BatchGetItem left ${keys.length} key(s) unprocessed after ${attempt} attempts`);
        if (attempt > 0) await new Promise((res) => setTimeout(res, Math.min(2000, 50 * 2 ** attempt)));
        const r = await this.send(() => this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } })));
        for (const item of r.Responses?.[this.tableName] ?? []) {
          const v = parseVideo(item);
          byId.set(v.videoId, v);
        }
        keys = (r.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
      }
    }
    return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  }

  /**
   * The sweeper's sparse index (only unfinished videos have its attributes), below the cutoff:
   * its cost is the number of stale unfinished videos, never the size of the archive.
   */
  async unfinishedBefore(before: string, limit: number): Promise<VideoRecord[]> {
    const r = await this.query(
      {
        IndexName: KEYS.unfinished.name,
        KeyConditionExpression: '#pk = :pk AND #sk < :before',
        ExpressionAttributeNames: { '#pk': KEYS.unfinished.partitionKey, '#sk': KEYS.unfinished.sortKey },
        ExpressionAttributeValues: { ':pk': UNFINISHED_PK, ':before': before },
      },
      limit,
    );
    const videos = await this.videosById(r.items.map((i) => String(i.PK).slice(videoPk('').length)));
    // The index is eventually consistent: keep only what the record itself says is unfinished and stale.
    return videos.filter((v) => (v.status === 'queued' || v.status === 'processing') && v.updatedAt < before);
  }

  // ------------------------------------------------------------------------------------------
  // Clips

  async recordClip(clip: ClipResult): Promise<void> {
    const base: Item = { PK: videoPk(clip.videoId), SK: clipSk(clip.etag, clip.index), ...ClipRecordSchema.parse({ ...clip, createdAt: this.now().toISOString() }) };
    let item = base;
    const inline = itemSize(base);
    if (inline > INLINE_CLIP_LIMIT_BYTES) {
      const body = JSON.stringify({ windows: clip.windows, ...(clip.keyframes !== undefined ? { keyframes: clip.keyframes } : {}) });
      const bytes = Buffer.byteLength(body, 'utf8');
      const store = this.payloads;
      if (!store?.bucket || bytes > MAX_PAYLOAD_BYTES) {
        if (inline <= ITEM_LIMIT_BYTES - 1024 && bytes <= MAX_PAYLOAD_BYTES) {
          item = base; // no payload store here, but the item still fits
        } else {
          throw tooLarge(clip, inline, bytes, store?.bucket ? undefined : 'no payload bucket is configured for this process');
        }
      } else {
        const pointer: PayloadPointer = { bucket: store.bucket, key: payloadKey(clip.videoId, clip.etag, clip.index), bytes };
        await store.put(pointer, body);
        const { windows: _w, keyframes: _k, ...rest } = base;
        item = { ...rest, windows: '', payload: pointer };
      }
    }
    try {
      await this.send(() => this.doc.send(new PutCommand({ TableName: this.tableName, Item: item })));
    } catch (e) {
      if ((e as { name?: string }).name === 'ValidationException' && /size/i.test((e as Error).message)) throw tooLarge(clip, itemSize(item), undefined, (e as Error).message);
      throw e;
    }
  }

  async hasClip(videoId: string, etag: string, index: number): Promise<boolean> {
    const r = await this.send(() =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: { PK: videoPk(videoId), SK: clipSk(etag, index) }, ConsistentRead: true, ProjectionExpression: '#i', ExpressionAttributeNames: { '#i': 'index' } })),
    );
    return r.Item !== undefined;
  }

  async clipsOf(videoId: string, etag: string, read: ClipRead = {}): Promise<ClipRecord[]> {
    const attributes = ['videoId', 'etag', 'index', 'start', 'end', 'windows', 'device', 'gap', 'createdAt', 'payload', ...(read.keyframes ? ['keyframes'] : [])];
    const p = projection(attributes);
    const r = await this.query({
      KeyConditionExpression: '#PK = :pk AND begins_with(#SK, :prefix)',
      ExpressionAttributeNames: { ...p.ExpressionAttributeNames, '#PK': KEYS.partitionKey, '#SK': KEYS.sortKey },
      ExpressionAttributeValues: { ':pk': videoPk(videoId), ':prefix': clipSkPrefix(etag) },
      ProjectionExpression: p.ProjectionExpression,
      ConsistentRead: true,
    });
    return Promise.all(
      r.items.map(async (i) => {
        const { payload, ...rest } = i;
        let body = rest;
        if (payload) {
          if (!this.payloads) throw new VidxError('INDEX_UNAVAILABLE', `clip ${String(i.index)} of video ${videoId} keeps its payload in S3, which this process cannot read`);
          const stored = await this.payloads.get(payload as PayloadPointer);
          body = { ...rest, windows: stored.windows, ...(read.keyframes && stored.keyframes !== undefined ? { keyframes: stored.keyframes } : {}) };
        }
        return ClipRecordSchema.parse(body);
      }),
    );
  }

  // ------------------------------------------------------------------------------------------
  // Timelines

  private segmentItem(owner: TimelineOwner, s: TimelineSegment): Item {
    const record = SegmentRecordSchema.parse({ ...s, videoId: owner.videoId, key: owner.key, etag: owner.etag });
    return {
      PK: videoPk(owner.videoId),
      SK: segmentSk(s),
      [KEYS.list.partitionKey]: labelListPk(s.label, shardOf(owner.videoId, this.labelShards)),
      [KEYS.list.sortKey]: rankOf(record),
      ...record,
    };
  }

  async setThumbnailTime(videoId: string, etag: string, segment: Pick<TimelineSegment, 'start' | 'label' | 'person'>, at: number): Promise<boolean> {
    const item = await this.updateIf({
      Key: { PK: videoPk(videoId), SK: segmentSk(segment) },
      UpdateExpression: 'SET #thumbAt = :at',
      ConditionExpression: 'attribute_exists(#PK) AND #etag = :etag',
      ExpressionAttributeNames: { '#thumbAt': 'thumbAt', '#PK': KEYS.partitionKey, '#etag': 'etag' },
      ExpressionAttributeValues: { ':at': at, ':etag': etag },
    });
    return item !== undefined;
  }

  async writeTimeline(owner: TimelineOwner, segments: readonly TimelineSegment[]): Promise<void> {
    await this.batchWrite(segments.map((s) => this.segmentItem(owner, s)), []);
  }

  /** Keys (and payload pointers) of every item under an SK prefix of one video. */
  private async keysUnder(videoId: string, prefix: string): Promise<{ PK: string; SK: string; payload?: PayloadPointer }[]> {
    const r = await this.query({
      KeyConditionExpression: '#PK = :pk AND begins_with(#SK, :prefix)',
      ExpressionAttributeNames: { '#PK': KEYS.partitionKey, '#SK': KEYS.sortKey, '#payload': 'payload' },
      ExpressionAttributeValues: { ':pk': videoPk(videoId), ':prefix': prefix },
      ProjectionExpression: '#PK, #SK, #payload',
      ConsistentRead: true,
    });
    return r.items.map((i) => ({ PK: String(i.PK), SK: String(i.SK), ...(i.payload ? { payload: i.payload as PayloadPointer } : {}) }));
  }

  /** Deletes the items, then the payload objects they pointed at (an orphan object is harmless, a dangling pointer is not). */
  private async remove(items: readonly { PK: string; SK: string; payload?: PayloadPointer }[]): Promise<number> {
    await this.batchWrite([], items.map(({ PK, SK }) => ({ PK, SK })));
    const pointers = items.flatMap((i) => (i.payload ? [i.payload] : []));
    if (pointers.length > 0 && this.payloads) await this.payloads.remove(pointers);
    return items.length;
  }

  async pruneTimeline(owner: TimelineOwner, segments: readonly TimelineSegment[]): Promise<number> {
    const keep = new Set(segments.map((s) => segmentSk(s)));
    const current = clipSkPrefix(owner.etag);
    const staleSegments = (await this.keysUnder(owner.videoId, SEGMENT_SK_PREFIX)).filter((k) => !keep.has(k.SK));
    const staleClips = (await this.keysUnder(owner.videoId, CLIP_SK_PREFIX)).filter((k) => !k.SK.startsWith(current));
    return this.remove([...staleSegments, ...staleClips]);
  }

  /** How many segments and clip results (all revisions) the video has stored: a diagnostic for tools and tests. */
  async derivedCounts(videoId: string): Promise<{ segments: number; clips: number }> {
    return { segments: (await this.keysUnder(videoId, SEGMENT_SK_PREFIX)).length, clips: (await this.keysUnder(videoId, CLIP_SK_PREFIX)).length };
  }

  /** Removes the video's record too (tests start a video over from nothing). */
  async forgetVideo(videoId: string): Promise<void> {
    await this.forgetDerived(videoId);
    await this.batchWrite([], [videoKey(videoId)]);
  }

  async forgetDerived(videoId: string): Promise<number> {
    return this.remove([...(await this.keysUnder(videoId, SEGMENT_SK_PREFIX)), ...(await this.keysUnder(videoId, CLIP_SK_PREFIX))]);
  }

  async timelineOf(videoId: string): Promise<SegmentRecord[]> {
    const r = await this.query({
      KeyConditionExpression: '#PK = :pk AND begins_with(#SK, :prefix)',
      ExpressionAttributeNames: { '#PK': KEYS.partitionKey, '#SK': KEYS.sortKey },
      ExpressionAttributeValues: { ':pk': videoPk(videoId), ':prefix': SEGMENT_SK_PREFIX },
      ConsistentRead: true,
    });
    return r.items.map(parseSegment);
  }

  async timelinePage(videoId: string, page: { limit: number; after?: string | undefined }): Promise<Page<SegmentRecord>> {
    let start: Item | undefined;
    if (page.after !== undefined) {
      if (!/^\d{10}#/.test(page.after)) throw invalidPosition('timeline');
      // Rebuilt inside the video's own partition: a position can only move within this timeline.
      start = { PK: videoPk(videoId), SK: `${SEGMENT_SK_PREFIX}${page.after}` };
    }
    const r = await this.query(
      {
        KeyConditionExpression: '#PK = :pk AND begins_with(#SK, :prefix)',
        ExpressionAttributeNames: { '#PK': KEYS.partitionKey, '#SK': KEYS.sortKey },
        ExpressionAttributeValues: { ':pk': videoPk(videoId), ':prefix': SEGMENT_SK_PREFIX },
      },
      page.limit,
      start,
    );
    const last = r.items[r.items.length - 1];
    return { items: r.items.map(parseSegment), ...(r.more && last ? { next: String(last.SK).slice(SEGMENT_SK_PREFIX.length) } : {}) };
  }

  // ------------------------------------------------------------------------------------------
  // Search

  async searchLabel(read: LabelSearch): Promise<LabelHits> {
    return read.videoId !== undefined ? this.searchInVideo(read, read.videoId) : this.searchShards(read);
  }

  /**
   * A label across videos: its shards read side by side (each from its own position, one item
   * more than wanted), merged best first. A hit's position holds every shard's place after it
   * (`~` for a shard with nothing more), so the next page resumes each shard where it stopped.
   */
  private async searchShards(read: LabelSearch): Promise<LabelHits> {
    const n = this.labelShards;
    let after: string[] = Array.from({ length: n }, () => '');
    if (read.after !== undefined) {
      const parts = read.after.split(',');
      if (parts.length !== n || !parts.every((p) => p === '' || p === SHARD_DONE || RANK_PATTERN.test(p))) throw invalidPosition('segment');
      after = parts;
    }
    const p = projection(HIT_ATTRIBUTES);
    const names: Record<string, string> = { ...p.ExpressionAttributeNames, '#pk': KEYS.list.partitionKey };
    const values: Record<string, NativeAttributeValue> = {};
    let keyCondition = '#pk = :pk';
    let filter: string | undefined;
    if (read.minScore > 0) {
      names['#sk'] = KEYS.list.sortKey;
      names['#score'] = 'score';
      // toFixed is monotone, so every item with score >= minScore has a rank <= this bound.
      values[':hi'] = `${(1 - read.minScore).toFixed(6)}#~`;
      values[':min'] = read.minScore;
      keyCondition += ' AND #sk <= :hi';
      filter = '#score >= :min';
    }
    const streams = await Promise.all(
      after.map(async (pos, shard) => {
        if (pos === SHARD_DONE) return { items: [] as Item[], more: false };
        const pk = labelListPk(read.label, shard);
        const start = pos === '' ? undefined : this.rankStart(read.label, shard, pos);
        const items: Item[] = [];
        let from = start;
        do {
          const r = await this.send(() =>
            this.doc.send(
              new QueryCommand({
                TableName: this.tableName,
                IndexName: KEYS.list.name,
                KeyConditionExpression: keyCondition,
                FilterExpression: filter,
                ProjectionExpression: p.ProjectionExpression,
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: { ...values, ':pk': pk },
                Limit: read.want + 1 - items.length,
                ExclusiveStartKey: from,
              }),
            ),
          );
          items.push(...(r.Items ?? []));
          from = r.LastEvaluatedKey;
        } while (from && items.length <= read.want);
        return { items: items.slice(0, read.want + 1), more: items.length > read.want || from !== undefined };
      }),
    );
    const used = streams.map(() => 0);
    const places = [...after];
    const hits: SegmentHit[] = [];
    while (hits.length < read.want) {
      let best = -1;
      for (let s = 0; s < n; s++) {
        const head = streams[s]!.items[used[s]!];
        if (head && (best < 0 || String(head[KEYS.list.sortKey]) < String(streams[best]!.items[used[best]!]![KEYS.list.sortKey]))) best = s;
      }
      if (best < 0) break;
      const item = streams[best]!.items[used[best]!++]!;
      places[best] = String(item[KEYS.list.sortKey]);
      for (let s = 0; s < n; s++) if (used[s] === streams[s]!.items.length && !streams[s]!.more) places[s] = SHARD_DONE;
      hits.push({ ...hitOf(parseSegment(item), false), position: places.join(',') });
    }
    const more = streams.some((s, i) => used[i]! < s.items.length || s.more);
    return { items: hits, more };
  }

  /** ExclusiveStartKey of a shard after the item with this rank, rebuilt from the shard's own partition. */
  private rankStart(label: string, shard: number, rank: string): Item {
    const m = /^[01]\.\d{6}#([0-9a-f]{20})#(\d{10})(?:#(\d{6}))?$/.exec(rank);
    if (!m) throw invalidPosition('segment');
    const pk = labelListPk(label, shard);
    const person = m[3] === undefined ? undefined : Number(m[3]);
    return { PK: videoPk(m[1]!), SK: segmentSk({ start: Number(m[2]) / 1000, label, person }), [KEYS.list.partitionKey]: pk, [KEYS.list.sortKey]: rank };
  }

  /**
   * A label inside one video: the video's own partition (its segments, filtered to the label and
   * minScore, only the attributes a hit shows), ranked here. That costs the size of one video,
   * whereas filtering the label's partitions by video would cost every segment of the label.
   */
  private async searchInVideo(read: LabelSearch, videoId: string): Promise<LabelHits> {
    if (read.after !== undefined && !RANK_PATTERN.test(read.after)) throw invalidPosition('segment');
    const p = projection([...HIT_ATTRIBUTES, 'boxes']);
    const r = await this.query({
      KeyConditionExpression: '#PK = :pk AND begins_with(#SK, :seg)',
      FilterExpression: '#label = :label AND #score >= :min',
      ProjectionExpression: p.ProjectionExpression,
      ExpressionAttributeNames: { ...p.ExpressionAttributeNames, '#PK': KEYS.partitionKey, '#SK': KEYS.sortKey, '#label': 'label', '#score': 'score' },
      ExpressionAttributeValues: { ':pk': videoPk(videoId), ':seg': SEGMENT_SK_PREFIX, ':label': read.label, ':min': read.minScore },
    });
    const hits = r.items
      .map((i) => hitOf(parseSegment(i), true))
      .filter((h) => read.after === undefined || h.rank > read.after)
      .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
    return { items: hits.slice(0, read.want), more: hits.length > read.want };
  }
}

function tooLarge(clip: ClipResult, itemBytes: number, payloadBytes: number | undefined, why?: string): VidxError {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const keyframes = clip.keyframes === undefined ? '' : `, keyframes ${kb(Buffer.byteLength(clip.keyframes, 'utf8'))}`;
  return new VidxError(
    'CLIP_TOO_LARGE',
    `clip ${clip.index} of video ${clip.videoId} cannot be stored: its item is ${kb(itemBytes)} (limit ${kb(ITEM_LIMIT_BYTES)}), windows ${kb(Buffer.byteLength(clip.windows, 'utf8'))}${keyframes}${payloadBytes === undefined ? '' : `, payload ${kb(payloadBytes)} (limit ${kb(MAX_PAYLOAD_BYTES)})`}${why ? `: ${why}` : ''}`,
  );
}

function parseVideo(item: Item): VideoRecord {
  const done = item.doneClips instanceof Set ? [...(item.doneClips as Set<number>)].sort((a, b) => a - b) : [];
  return VideoRecordSchema.parse({ ...item, doneClips: done });
}

function parseSummary(item: Item): VideoSummary {
  const done = item.doneClips instanceof Set ? [...(item.doneClips as Set<number>)].sort((a, b) => a - b) : [];
  return VideoSummarySchema.parse({ ...item, doneClips: done });
}

function parseSegment(item: Item): SegmentRecord {
  return SegmentRecordSchema.parse(item);
}
