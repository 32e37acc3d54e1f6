/**
 * Links to a moment: `?video=<id>&t=<seconds>[&person=<n>]` opens the page on that video, playing
 * from t, with that person's box and lanes picked out. Pure: parsing and making, nothing else.
 */
import { VIDEO_ID_PATTERN } from '../core/query/limits.ts';

export interface MomentLink {
  video: string;
  /** Seconds from the start. */
  t: number;
  person?: number | undefined;
}

/** The moment a query string names, or undefined when it names none (or not a valid one). */
export function parseMomentLink(search: string): MomentLink | undefined {
  const q = new URLSearchParams(search);
  const video = q.get('video');
  if (!video || !VIDEO_ID_PATTERN.test(video)) return undefined;
  const t = Number(q.get('t') ?? 0);
  const person = q.get('person');
  const p = person !== null && /^[1-9]\d{0,5}$/.test(person) ? Number(person) : undefined;
  return { video, t: Number.isFinite(t) && t >= 0 ? t : 0, ...(p !== undefined ? { person: p } : {}) };
}

/** The query string of a moment (t to a tenth of a second). */
export function momentQuery(m: MomentLink): string {
  const q = new URLSearchParams({ video: m.video, t: (Math.round(m.t * 10) / 10).toString() });
  if (m.person !== undefined) q.set('person', String(m.person));
  return `?${q}`;
}
