/** A video's progress in words, for `vidx videos`, `upload --wait` and the web page (pure). */
import type { VideoView } from './responses.ts';

/** 75 -> "1m15s", 3700 -> "1h01m", 8 -> "8s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "12 of 40 windows (30%), about 1m20s left"; the clip counts where windows are not recorded. */
export interface ProgressFields {
  status: string;
  reason?: string | undefined;
  clipsDone?: number | undefined;
  clipsTotal?: number | undefined;
  segments?: number | undefined;
  progress?: VideoView['progress'] | undefined;
}

export function describeProgress(v: ProgressFields): string {
  if (v.status === 'indexed' || v.status === 'indexed_with_gaps') return `${v.status}${v.segments === undefined ? '' : `, ${v.segments} segment${v.segments === 1 ? '' : 's'}`}`;
  if (v.status === 'failed') return `failed: ${v.reason ?? 'no reason recorded'}`;
  const p = v.progress;
  if (p && p.windowsTotal > 0) {
    const pct = Math.floor((100 * p.windowsDone) / p.windowsTotal);
    const eta = p.etaSeconds === null ? (p.windowsDone === 0 ? ', waiting for a worker' : '') : `, about ${duration(p.etaSeconds)} left`;
    return `${v.status} ${p.windowsDone} of ${p.windowsTotal} windows (${pct}%)${eta}`;
  }
  return v.clipsTotal ? `${v.status} ${v.clipsDone ?? 0} of ${v.clipsTotal} clips` : v.status;
}
