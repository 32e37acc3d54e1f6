/** Index items in the exact layout the DynamoDB adapter writes (adapters/dynamo-index/layout.ts). */
import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { videoIdFor } from '../../../core/records.ts';
import { rankOf } from '../../../core/index/order.ts';
import { DEFAULT_LABEL_SHARDS, KEYS, VIDEOS_LIST_PK, labelListPk, segmentSk, shardOf, videoKey, videoListSk, videoPk } from '../../../adapters/dynamo-index/layout.ts';

type Item = Record<string, NativeAttributeValue>;

export interface SeedSegment {
  videoId: string;
  key: string;
  label: string;
  start: number;
  end: number;
  score: number;
}

export function videoItem(key: string, updatedAt: string, extra: Item = {}): Item {
  const videoId = videoIdFor('vidx-videos', key);
  return {
    ...videoKey(videoId),
    [KEYS.list.partitionKey]: VIDEOS_LIST_PK,
    [KEYS.list.sortKey]: videoListSk(updatedAt, videoId),
    videoId,
    bucket: 'vidx-videos',
    key,
    etag: '"abc"',
    status: 'indexed',
    duration: 60,
    fps: 25,
    width: 640,
    height: 360,
    model: 'slowfast_r50',
    trained: false,
    clipsTotal: 2,
    doneClips: new Set([0, 1]),
    createdAt: updatedAt,
    updatedAt,
    indexedAt: updatedAt,
    ...extra,
  };
}

/** The rank search orders hits by (ascending = best first). */
export function rankOfSeed(s: SeedSegment): string {
  return rankOf(s);
}

export function segmentItem(s: SeedSegment): Item {
  return {
    PK: videoPk(s.videoId),
    SK: segmentSk(s),
    [KEYS.list.partitionKey]: labelListPk(s.label, shardOf(s.videoId, DEFAULT_LABEL_SHARDS)),
    [KEYS.list.sortKey]: rankOf(s),
    videoId: s.videoId,
    key: s.key,
    etag: '"abc"',
    label: s.label,
    start: s.start,
    end: s.end,
    score: s.score,
    mean: Math.round(s.score * 900) / 1000,
    windows: 2,
  };
}
