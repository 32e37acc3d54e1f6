/**
 * Stream positions inside a cursor are sort keys only. These functions check that a sort key
 * has the shape of the partition it claims to be in and rebuild the full DynamoDB key from the
 * query's own partition, so a position can never address an item outside what the query reads.
 */
import { VIDEOS_GSI_PK, labelGsiPk, segmentSk, videoKey, videoPk } from '../records.ts';
import { invalidCursor, type Positions } from './cursor.ts';

/** GSI1SK of a segment: `<1-score, 6 decimals>#<videoId>#<startMs, 10 digits>`. */
export const SEGMENT_SORT_KEY = /^([01]\.\d{6})#([0-9a-f]{20})#(\d{10})$/;
/** GSI1SK of a video: `<ISO time>#<videoId>`. */
export const VIDEO_SORT_KEY = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z)#([0-9a-f]{20})$/;

/** Position key of the /videos listing inside a cursor. */
export const VIDEOS_POSITION = 'VIDEOS';

export interface IndexKey {
  PK: string;
  SK: string;
  GSI1PK: string;
  GSI1SK: string;
}

/** ExclusiveStartKey of a label stream after the segment with this GSI1SK. */
export function segmentStartKey(label: string, sortKey: string): IndexKey {
  const m = SEGMENT_SORT_KEY.exec(sortKey);
  if (!m) throw invalidCursor('cursor position is not a segment position');
  const [, , videoId, startMs] = m;
  return { PK: videoPk(videoId!), SK: segmentSk(Number(startMs) / 1000, label), GSI1PK: labelGsiPk(label), GSI1SK: sortKey };
}

/** ExclusiveStartKey of the /videos listing after the video with this GSI1SK. */
export function videoStartKey(sortKey: string): IndexKey {
  const m = VIDEO_SORT_KEY.exec(sortKey);
  if (!m) throw invalidCursor('cursor position is not a video position');
  return { ...videoKey(m[2]!), GSI1PK: VIDEOS_GSI_PK, GSI1SK: sortKey };
}

/**
 * Checks the positions of a search cursor against the labels the query reads: every position
 * names one of them and is a segment sort key ('' = that stream has not started). Labels
 * without a position are finished streams. At least one stream must remain.
 */
export function checkSearchPositions(positions: Positions, labels: readonly string[]): Positions {
  const keys = Object.keys(positions);
  if (keys.length === 0) throw invalidCursor('cursor has no position');
  for (const k of keys) {
    if (!labels.includes(k)) throw invalidCursor('cursor position is outside this query');
    const v = positions[k]!;
    if (v !== '' && !SEGMENT_SORT_KEY.test(v)) throw invalidCursor('cursor position is not a segment position');
  }
  return positions;
}

export function checkVideoPositions(positions: Positions): string {
  const keys = Object.keys(positions);
  const v = positions[VIDEOS_POSITION];
  if (keys.length !== 1 || v === undefined) throw invalidCursor('cursor position is outside this query');
  if (!VIDEO_SORT_KEY.test(v)) throw invalidCursor('cursor position is not a video position');
  return v;
}
