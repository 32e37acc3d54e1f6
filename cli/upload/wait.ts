/** `vidx upload --wait`: poll each video until it is indexed (with or without gaps) or failed, or the timeout passes. */
import type { Gap } from '../../core/gap.ts';
import type { UploadTarget, VideoProgress } from './targets.ts';

export type WaitResult =
  | { videoId: string; status: 'indexed'; labels: string }
  | { videoId: string; status: 'indexed_with_gaps'; labels: string; gaps: readonly Gap[] }
  | { videoId: string; status: 'failed'; reason: string }
  | { videoId: string; status: 'timed-out'; last: VideoProgress | undefined };

export interface WaitOptions {
  timeoutMs: number;
  everyMs?: number;
  /** Turns an indexed video's timeline into a line (the best labels). */
  describe(t: Awaited<ReturnType<UploadTarget['timeline']>>): string;
  /** Called as each video settles. */
  onSettled?(r: WaitResult): void;
  /** Called with each unsettled video's state at every poll. */
  onProgress?(videoId: string, v: VideoProgress | undefined): void;
}

export async function waitForVideos(target: Pick<UploadTarget, 'progress' | 'timeline'>, videoIds: readonly string[], o: WaitOptions): Promise<WaitResult[]> {
  const deadline = Date.now() + o.timeoutMs;
  const results = new Map<string, WaitResult>();
  const last = new Map<string, VideoProgress | undefined>();
  const settle = (r: WaitResult) => {
    results.set(r.videoId, r);
    o.onSettled?.(r);
  };
  for (;;) {
    for (const id of videoIds) {
      if (results.has(id)) continue;
      const v = await target.progress(id);
      last.set(id, v);
      if (v?.status === 'failed') settle({ videoId: id, status: 'failed', reason: v.reason ?? 'no reason recorded' });
      else if (v?.status === 'indexed') settle({ videoId: id, status: 'indexed', labels: o.describe(await target.timeline(id)) });
      else if (v?.status === 'indexed_with_gaps') settle({ videoId: id, status: 'indexed_with_gaps', labels: o.describe(await target.timeline(id)), gaps: v.gaps ?? [] });
      else o.onProgress?.(id, v);
    }
    if (results.size === videoIds.length || Date.now() >= deadline) break;
    await new Promise((res) => setTimeout(res, Math.min(o.everyMs ?? 1000, Math.max(0, deadline - Date.now()))));
  }
  for (const id of videoIds) if (!results.has(id)) settle({ videoId: id, status: 'timed-out', last: last.get(id) });
  return videoIds.map((id) => results.get(id)!);
}
