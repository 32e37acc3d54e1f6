/** Small display helpers of the page (pure). */
import type { VideoView } from '../core/query/responses.ts';
import { describeProgress } from '../core/query/progress-text.ts';

export function seconds(s: number): string {
  if (!Number.isFinite(s)) return '–';
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  return m > 0 ? `${m}:${rest.toFixed(1).padStart(4, '0')}` : `${rest.toFixed(1)} s`;
}

export function range(start: number, end: number): string {
  return `${seconds(start)} – ${seconds(end)}`;
}

export function score(p: number): string {
  return p.toFixed(2);
}

/** The file name of an object key (`videos/a/b.mp4` -> `b.mp4`). */
export function videoName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1) || key;
}

/** A person's words for a video's state, with progress while it is processed. */
export function statusText(v: VideoView): string {
  switch (v.status) {
    case 'queued':
      return 'queued';
    case 'processing':
      // Windows scored and the time left where the pipeline records them; clips otherwise.
      return v.progress && v.progress.windowsTotal > 0
        ? describeProgress(v)
        : v.clipsTotal
          ? `processing ${v.clipsDone} of ${v.clipsTotal} clips (${Math.round((100 * v.clipsDone) / v.clipsTotal)} %)`
          : 'processing';
    case 'indexed':
      return `indexed${v.segments !== undefined ? `, ${v.segments} segment${v.segments === 1 ? '' : 's'}` : ''}`;
    case 'indexed_with_gaps':
      return `indexed with gaps${v.segments !== undefined ? `, ${v.segments} segment${v.segments === 1 ? '' : 's'}` : ''}; missing ${(v.gaps ?? []).map((g) => `${g.start.toFixed(1)}-${g.end.toFixed(1)} s`).join(', ')}`;
    case 'failed':
      return `failed: ${v.reason ?? v.errorCode ?? 'no reason recorded'}`;
    default:
      return v.status;
  }
}

/** Whether a browser <video> can play the file (a GIF is an image to it). */
export function playable(key: string): boolean {
  return !/\.gif$/i.test(key);
}

/** Background of a timeline bar: the stronger the score, the darker the blue. */
export function shade(p: number): string {
  const lightness = Math.round(85 - 55 * Math.min(1, Math.max(0, p)));
  return `hsl(215 75% ${lightness}%)`;
}
