/**
 * Re-indexing many videos (`vidx reindex --all`, `--retry-failed`) without flooding the clip
 * queue: an archive of 10,000 videos would otherwise put every clip job in the queue at once,
 * ahead of every new upload and, beyond what the fleet does in the queue's retention, expiring.
 *
 * Two bounds, both on clip jobs (what the workers do):
 * - a rate: at most `clipsPerSecond` jobs sent per second, on average since the start;
 * - a backlog: before each video, wait while the queue already holds `maxWaiting` jobs or more.
 * New uploads are never held back: the segmenter sends their jobs at once, so they queue behind
 * at most `maxWaiting` re-index jobs.
 */
import { DEFAULTS } from '../names.ts';
import { reindexVideo, type ReindexOptions, type ReindexOutcome } from './reindex.ts';
import type { SegmenterDeps } from './segment.ts';

export interface ReindexPace {
  /** Clip jobs sent per second, at most (on average). */
  clipsPerSecond: number;
  /** Wait while the clip queue holds this many jobs or more. */
  maxWaiting: number;
  /** Seconds between two looks at a full queue. */
  pollSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export const DEFAULT_REINDEX_PACE: Pick<ReindexPace, 'clipsPerSecond' | 'maxWaiting'> = {
  clipsPerSecond: DEFAULTS.reindexClipsPerSecond,
  maxWaiting: DEFAULTS.reindexMaxWaiting,
};

/** Clip jobs a re-index outcome sent. */
export function clipsSent(r: ReindexOutcome): number {
  if (r.action === 'requeued') return r.clips;
  if (r.action === 'current') return 0;
  const o = r.result;
  return o.outcome === 'queued' || o.outcome === 'requeued' ? o.clips : 0;
}

const sleepMs = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

/**
 * Re-indexes the videos one after another at the pace given; returns every outcome in order.
 * `onOutcome` hears each video's outcome as soon as it is known (the local stack watches its event).
 */
export async function reindexPaced(
  deps: SegmenterDeps,
  videoIds: readonly string[],
  pace: ReindexPace,
  options: ReindexOptions = {},
  onOutcome?: (videoId: string, outcome: ReindexOutcome) => void,
): Promise<ReindexOutcome[]> {
  const sleep = pace.sleep ?? sleepMs;
  const now = pace.now ?? Date.now;
  const started = now();
  let sent = 0;
  const out: ReindexOutcome[] = [];
  for (const id of videoIds) {
    for (let waiting = await deps.queue.waiting(); waiting >= pace.maxWaiting; waiting = await deps.queue.waiting()) {
      deps.log.info('re-index paused: the clip queue is full enough', { waiting, maxWaiting: pace.maxWaiting, done: out.length, of: videoIds.length });
      await sleep((pace.pollSeconds ?? 30) * 1000);
    }
    const r = await reindexVideo(deps, id, options);
    out.push(r);
    onOutcome?.(id, r);
    sent += clipsSent(r);
    // Ahead of the rate: wait until the jobs sent so far are within it.
    const aheadMs = (sent / pace.clipsPerSecond) * 1000 - (now() - started);
    if (aheadMs > 0) await sleep(aheadMs);
  }
  return out;
}
