/**
 * The orders the index promises, defined once: a timeline by start, then label, clip-level before
 * person segments; search hits best first (rankOf ascending). Stores may use these strings
 * directly as sort keys: they sort as strings exactly as they rank.
 */
import { msOf } from '../records.ts';
import type { TimelineSegment } from './port.ts';

function pad(n: number, width: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`order component must be a non-negative integer, got ${n}`);
  return String(n).padStart(width, '0');
}

/** Width of a person's track id in ranks and orders. */
const PERSON_WIDTH = 6;

/**
 * A segment's rank among hits of its label, as a string: ascending = best score first (6
 * decimals), ties broken by video, start, then person. Fixed width, so strings compare as ranks.
 */
export function rankOf(s: { score: number; videoId: string; start: number; person?: number | undefined }): string {
  const inv = Math.min(1, Math.max(0, 1 - s.score)).toFixed(6);
  const base = `${inv}#${s.videoId}#${pad(msOf(s.start), 10)}`;
  return s.person === undefined ? base : `${base}#${pad(s.person, PERSON_WIDTH)}`;
}

/** The shape of a rank (a position that claims to be one is checked against it). */
export const RANK_PATTERN = /^[01]\.\d{6}#[0-9a-f]{20}#\d{10}(#\d{6})?$/;

/**
 * A segment's place in its video's timeline, as a string (start ms, label, person): unique per
 * video, since two segments of one label never share a start (assembly keeps the better one).
 */
export function timelineOrderOf(s: Pick<TimelineSegment, 'start' | 'label' | 'person'>): string {
  const base = `${pad(msOf(s.start), 10)}#${s.label}`;
  return s.person === undefined ? base : `${base}#P${pad(s.person, PERSON_WIDTH)}`;
}

export function compareTimeline(a: Pick<TimelineSegment, 'start' | 'label' | 'person'>, b: Pick<TimelineSegment, 'start' | 'label' | 'person'>): number {
  const x = timelineOrderOf(a);
  const y = timelineOrderOf(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
