/** A revision's progress from its video record (pure). */
import type { VideoRecord } from '../records.ts';

/** Whether a video's done set covers every clip. */
export function isComplete(v: Pick<VideoRecord, 'doneClips' | 'clipsTotal'>): boolean {
  return v.clipsTotal > 0 && missingClips(v).length === 0;
}

/** Indices of the clips of the revision not yet in its done set, ascending. */
export function missingClips(v: Pick<VideoRecord, 'doneClips' | 'clipsTotal'>): number[] {
  const done = new Set(v.doneClips);
  const missing: number[] = [];
  for (let i = 0; i < v.clipsTotal; i++) if (!done.has(i)) missing.push(i);
  return missing;
}
