/**
 * The sweeper: finds unfinished videos (queued or processing) that have made no progress for
 * longer than a message could still be on its way, and sends their missing clips again. It is
 * how a video whose clip jobs were lost (dead-lettered, expired, purged, or the local queue gone
 * with a restart) still finishes. Runs on a schedule (a Lambda on AWS, an interval in `vidx local`).
 *
 * Guards: nothing is read or sent while the queue holds messages (visible, in flight or delayed:
 * they may be the video's own, in a backlog); the index is asked only for unfinished videos (a
 * sparse index, so a round costs the stale videos, never the archive); each re-enqueue is claimed
 * on the record (one sender per round); a video whose clips are all done but which is not indexed
 * gets its last clip sent again, so a worker assembles it; after `maxRequeues` fruitless
 * re-enqueues the video fails as STALLED with a reason, instead of looping.
 */
import { isVidxError } from '../errors.ts';
import type { VideoRecord } from '../records.ts';
import { missingClips } from './progress.ts';
import { type ClipQueue, type VideoIndex, type PipelineLog, type VideoObjects } from './ports.ts';
import { requeueMissing } from './requeue.ts';


export interface SweepDeps {
  objects: Pick<VideoObjects, 'head'>;
  queue: ClipQueue;
  store: Pick<VideoIndex, 'unfinishedBefore' | 'claimRequeue' | 'markFailed' | 'forgetDerived'>;
  log: PipelineLog;
}

export interface SweepOptions {
  /** A video untouched for this long has lost its messages (see staleAfterSeconds). */
  staleAfterSeconds: number;
  /** Re-enqueues without the video finishing before it fails as STALLED. */
  maxRequeues: number;
  /**
   * What a video whose object is gone becomes: `fail` (AWS: it was deleted) or `skip` (locally the
   * emulated bucket is in memory, so a restart loses every object: a re-upload brings it back).
   */
  missingObject: 'fail' | 'skip';
  /** Videos looked at per round. */
  limit?: number;
  now?: () => Date;
}

export interface SweepReport {
  looked: number;
  requeued: { videoId: string; clips: number }[];
  failed: { videoId: string; code: string }[];
  skipped: { videoId: string; why: string }[];
  /** Left unfinished because their object is gone (missingObject: 'skip'): a re-upload finishes them. */
  lost: { videoId: string; key: string }[];
  /** Messages the queue held when the round began (the round read and sent nothing if any). */
  backlog: number;
}

/**
 * How long a video may go without an update before its messages are taken as lost: a message
 * still in the queue is received at most maxReceiveCount times, each hiding it for up to a
 * visibility timeout, before it is done or dead-lettered; one timeout more is the margin.
 */
export function staleAfterSeconds(visibilityTimeoutSeconds: number, maxReceiveCount: number): number {
  return visibilityTimeoutSeconds * (maxReceiveCount + 1);
}

export async function sweepUnfinished(deps: SweepDeps, o: SweepOptions): Promise<SweepReport> {
  const now = (o.now ?? (() => new Date()))();
  const cutoff = new Date(now.getTime() - o.staleAfterSeconds * 1000).toISOString();
  const report: SweepReport = { looked: 0, requeued: [], failed: [], skipped: [], lost: [], backlog: 0 };
  // A backlog may hold the stale videos' own messages: sending them again would double it. Checked
  // first, so a busy round costs one queue call and no read of the index.
  report.backlog = await deps.queue.waiting();
  if (report.backlog > 0) {
    deps.log.info('sweep: left for later, the queue still holds messages', { waiting: report.backlog });
    return report;
  }
  const stale = await deps.store.unfinishedBefore(cutoff, o.limit ?? 100);
  report.looked = stale.length;
  for (const v of stale) {
    const outcome = await sweepOne(deps, o, v);
    if (outcome.kind === 'requeued') report.requeued.push({ videoId: v.videoId, clips: outcome.clips });
    else if (outcome.kind === 'failed') report.failed.push({ videoId: v.videoId, code: outcome.code });
    else if (outcome.kind === 'lost') report.lost.push({ videoId: v.videoId, key: v.key });
    else report.skipped.push({ videoId: v.videoId, why: outcome.why });
  }
  if (report.requeued.length + report.failed.length > 0) {
    deps.log.info('sweep done', { looked: report.looked, requeued: report.requeued.length, failed: report.failed.length, skipped: report.skipped.length });
  }
  return report;
}

type One = { kind: 'requeued'; clips: number } | { kind: 'failed'; code: string } | { kind: 'skipped'; why: string } | { kind: 'lost' };

async function sweepOne(deps: SweepDeps, o: SweepOptions, v: VideoRecord): Promise<One> {
  const missing = missingClips(v);
  if ((v.requeues ?? 0) >= o.maxRequeues) {
    const reason =
      missing.length === 0
        ? `no progress after ${v.requeues} re-enqueue(s): every clip is done but the timeline could not be assembled (the worker logs say why)`
        : `no progress after ${v.requeues} re-enqueue(s): ${missing.length} of ${v.clipsTotal} clip(s) never finished (their jobs may be in the dead-letter queue; the worker logs say why)`;
    return fail(deps, v, 'STALLED', reason);
  }
  try {
    const head = await deps.objects.head(v.bucket, v.key);
    if (head.etag !== v.etag) return { kind: 'skipped', why: 'the object was replaced; its own upload event indexes it' };
  } catch (e) {
    if (!isVidxError(e, 'OBJECT_NOT_FOUND')) throw e;
    if (o.missingObject === 'skip') return { kind: 'lost' };
    return fail(deps, v, 'OBJECT_NOT_FOUND', `s3://${v.bucket}/${v.key} was deleted before the video was indexed`);
  }
  const r = await requeueMissing(deps, v, 'sweep: no progress');
  return r.requeued ? { kind: 'requeued', clips: r.clips } : { kind: 'skipped', why: r.why };
}

async function fail(deps: SweepDeps, v: VideoRecord, code: string, reason: string): Promise<One> {
  if (await deps.store.markFailed(v.videoId, v.etag, code, reason)) await deps.store.forgetDerived(v.videoId);
  deps.log.warn('video failed', { videoId: v.videoId, key: v.key, errorCode: code, reason });
  return { kind: 'failed', code };
}
