/** Index items in the exact layout of core/records.ts, as the pipeline writes them. */
import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { labelGsiPk, labelGsiSk, segmentSk, videoGsiSk, videoIdFor, videoKey, videoPk, VIDEOS_GSI_PK } from '../../../core/records.ts';

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
    GSI1PK: VIDEOS_GSI_PK,
    GSI1SK: videoGsiSk(updatedAt, videoId),
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

export function segmentItem(s: SeedSegment): Item {
  return {
    PK: videoPk(s.videoId),
    SK: segmentSk(s.start, s.label),
    GSI1PK: labelGsiPk(s.label),
    GSI1SK: labelGsiSk(s.score, s.videoId, s.start),
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
