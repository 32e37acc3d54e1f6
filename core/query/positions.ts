/**
 * Stream positions inside a cursor. A position is opaque here: the index issued it and checks
 * its shape when it is passed back (INVALID_CURSOR otherwise), rebuilding any storage key from
 * the query's own partitions, so a position can never address an item outside what the query
 * reads. These functions check what the API knows: which streams a cursor of a query may hold.
 */
import { invalidCursor, type Positions } from './cursor.ts';

/** Position key of the /videos listing inside a cursor. */
export const VIDEOS_POSITION = 'videos';
/** Position key of a timeline page inside a cursor. */
export const TIMELINE_POSITION = 'timeline';

/**
 * Checks the positions of a search cursor against the labels the query reads: every position
 * names one of them ('' = that stream has not started). Labels without a position are finished
 * streams. At least one stream must remain.
 */
export function checkSearchPositions(positions: Positions, labels: readonly string[]): Positions {
  const keys = Object.keys(positions);
  if (keys.length === 0) throw invalidCursor('cursor has no position');
  for (const k of keys) if (!labels.includes(k)) throw invalidCursor('cursor position is outside this query');
  return positions;
}

function single(positions: Positions, key: string): string {
  const v = positions[key];
  if (Object.keys(positions).length !== 1 || v === undefined || v === '') throw invalidCursor('cursor position is outside this query');
  return v;
}

export function checkVideoPositions(positions: Positions): string {
  return single(positions, VIDEOS_POSITION);
}

export function checkTimelinePosition(positions: Positions): string {
  return single(positions, TIMELINE_POSITION);
}
