/**
 * The segmenter's work for one uploaded object: probe it through a presigned URL, plan its clips,
 * record the revision and enqueue one clip job per clip. Dependencies are passed in (ports.ts;
 * built once by lambdas/segmenter/deps.ts) so the same code runs in the Lambda, in `vidx local`
 * and in tests.
 *
 * Idempotency (S3 events are at-least-once, and the intake queue redelivers):
 * - same (key, etag) already indexed -> nothing happens;
 * - same (key, etag) failed -> the object is probed again: the same failure is a duplicate
 *   (nothing changes, no second event); anything else retries the revision (uploading the same
 *   bytes of a failed video retries it);
 * - same (key, etag) fully enqueued but unfinished (its messages may be lost: a restarted local
 *   stack, a dead-lettered or purged job) -> the clips not yet done are sent again (requeue.ts),
 *   unless it made progress within `requeueStaleAfterSeconds` (then it is a duplicate);
 * - recorded but not fully enqueued: the event that recorded it is sending the jobs, so a
 *   concurrent duplicate sends nothing (`in-progress`, retried later by the queue); once that
 *   sender has been silent for `enqueueLeaseSeconds` (it crashed) one event takes the revision
 *   over with a conditional write (VideoIndex.claimEnqueue) and sends the jobs;
 * - a new etag -> a new revision (see VideoIndex.beginRevision, core/index/port.ts).
 *
 * Failures are sorted by core/failure-class.ts: a permanent one (the file) is recorded on the
 * video; a transient one (network, throttling, a timeout) is thrown, so the event is retried.
 */
import { VidxError, isVidxError } from '../errors.ts';
import { classifyFailure } from '../failure-class.ts';
import { DEFAULTS } from '../names.ts';
import type { DeliveryOptions, EventSink } from '../events/deliver.ts';
import { notifyIfFinal } from './notify.ts';
import type { ClipJob } from '../messages.ts';
import { videoIdFor, type VideoRecord } from '../records.ts';
import { planClips } from './plan.ts';
import { unitsPerClip } from './progress.ts';
import { requeueMissing } from './requeue.ts';
import { type ClipQueue, type VideoIndex, type PipelineLog, type RevisionFacts, type VideoObjects } from './ports.ts';


/** What the segmenter needs from a probe (core/video's VideoInfo satisfies it). */
export interface ProbedVideo {
  duration: number;
  fps: number;
  width: number;
  height: number;
  rotation: number;
  codec: string;
}

export interface SegmenterDeps {
  objects: VideoObjects;
  queue: ClipQueue;
  store: VideoIndex;
  /** Only keys under this prefix are indexed. */
  prefix: string;
  clipSeconds: number;
  /** The model the clips are planned for; `manifestSha256` goes on the record and every job. */
  model: { architecture: string; trained: boolean; manifestSha256?: string | undefined };
  /** Where done/failed events go (none = no events). */
  events?: { sinks: readonly EventSink[]; delivery?: DeliveryOptions } | undefined;
  /** Probe a URL (ffprobe); throws a VidxError for anything that is not a readable video. */
  probe(url: string): Promise<ProbedVideo>;
  /** Start times (s) of the video's model windows (core/video planWindows). */
  windowStarts(duration: number): number[];
  /**
   * Times (s) of the video's AVA keyframes where the deployment detects people (core/detection
   * planKeyframes): clips are planned over window starts AND keyframe times, so a keyframe past
   * the last window start still gets a clip that owns it.
   */
  keyframeTimes?(duration: number): number[];
  /**
   * A repeated event of an unfinished revision re-enqueues its missing clips only when the
   * revision has made no progress for this long (default 0: always). Duplicates of one upload's
   * event, arriving while its clips are worked on, then enqueue nothing more.
   */
  requeueStaleAfterSeconds?: number;
  log: PipelineLog;
  /**
   * Seconds a recorded but not yet enqueued revision belongs to the event that recorded it (at least
   * the segmenter's run time limit); default DEFAULTS.segmenterTimeoutSeconds.
   */
  enqueueLeaseSeconds?: number;
  now?: () => Date;
}

export interface ObjectRef {
  bucket: string;
  /** Decoded key. */
  key: string;
  etag: string;
  size: number | undefined;
  /**
   * The revision token to record (default: the etag). A re-index with another model passes
   * reindexEtag(etag, sha): the same object, a new revision (core/pipeline/reindex.ts).
   */
  revision?: string | undefined;
}

export type SegmentOutcome =
  | { videoId: string; outcome: 'ignored'; why: string }
  | { videoId: string; outcome: 'duplicate'; status: string }
  | { videoId: string; outcome: 'queued'; clips: number }
  | { videoId: string; outcome: 'requeued'; clips: number }
  /** Another event is enqueueing this revision right now: try again later (the queue redelivers). */
  | { videoId: string; outcome: 'in-progress'; why: string }
  | { videoId: string; outcome: 'failed'; code: string; reason: string };

export async function segmentObject(deps: SegmenterDeps, obj: ObjectRef): Promise<SegmentOutcome> {
  const videoId = videoIdFor(obj.bucket, obj.key);
  const revision = obj.revision ?? obj.etag;
  const log = { videoId, bucket: obj.bucket, key: obj.key, etag: revision };
  if (!obj.key.startsWith(deps.prefix) || obj.key.endsWith('/')) {
    deps.log.info('ignored: outside the video prefix', { ...log, prefix: deps.prefix });
    return { videoId, outcome: 'ignored', why: `key is not under ${deps.prefix}` };
  }
  const existing = await deps.store.getVideo(videoId);
  const stale = (v: VideoRecord) => Date.now() - Date.parse(v.updatedAt) >= (deps.requeueStaleAfterSeconds ?? 0) * 1000;
  if (existing && existing.etag === revision && existing.enqueued === true && (existing.status === 'queued' || existing.status === 'processing') && stale(existing)) {
    const r = await requeueMissing(deps, existing, 'the same object was uploaded again');
    if (r.requeued) return { videoId, outcome: 'requeued', clips: r.clips };
  }
  const retryFailed = existing !== undefined && existing.etag === revision && existing.status === 'failed';
  if (existing && existing.etag === revision && existing.enqueued === true && !retryFailed) {
    deps.log.info('duplicate event: revision already recorded', { ...log, status: existing.status });
    return { videoId, outcome: 'duplicate', status: existing.status };
  }

  const base = {
    videoId,
    bucket: obj.bucket,
    key: obj.key,
    etag: revision,
    size: obj.size,
    model: deps.model.architecture,
    trained: deps.model.trained,
    modelSha256: deps.model.manifestSha256,
  };
  let facts: RevisionFacts;
  let jobs: ClipJob[] = [];
  try {
    if (obj.size === 0) {
      throw new VidxError('EMPTY_UPLOAD', 'the upload is empty (0 bytes), so there is no video to index', { hint: 'upload the file again' });
    }
    const head = await deps.objects.head(obj.bucket, obj.key);
    if (head.etag !== obj.etag) {
      // The object was overwritten after this event: the newer object's own event indexes it.
      deps.log.info('ignored: a newer version of the object exists', { ...log, currentEtag: head.etag });
      return { videoId, outcome: 'ignored', why: 'superseded by a newer upload of the same key' };
    }
    if (head.size === 0) {
      throw new VidxError('EMPTY_UPLOAD', 'the upload is empty (0 bytes), so there is no video to index', { hint: 'upload the file again' });
    }
    const source = await deps.objects.readable(obj.bucket, obj.key);
    let info: ProbedVideo;
    try {
      info = await deps.probe(source.url);
    } catch (e) {
      if (isVidxError(e)) throw new VidxError(e.code, source.redact(e.message), { hint: e.hint, cause: e });
      throw e;
    }
    const starts = [...deps.windowStarts(info.duration), ...(deps.keyframeTimes?.(info.duration) ?? [])].sort((a, b) => a - b);
    const clips = planClips(starts, deps.clipSeconds);
    jobs = clips.map((c) => ({
      v: 1,
      videoId,
      bucket: obj.bucket,
      key: obj.key,
      etag: revision,
      clip: { index: c.index, count: c.count, start: c.start, end: c.end },
      model: deps.model.architecture,
      ...(deps.model.manifestSha256 ? { modelSha256: deps.model.manifestSha256 } : {}),
    }));
    facts = {
      ...base,
      size: obj.size ?? head.size,
      status: 'queued',
      duration: info.duration,
      fps: info.fps,
      width: info.width,
      height: info.height,
      rotation: info.rotation,
      codec: info.codec,
      clipsTotal: clips.length,
      clipSeconds: deps.clipSeconds,
      clipStarts: clips.map((c) => c.start),
      clipUnits: unitsPerClip(starts, clips.map((c) => c.start), deps.clipSeconds),
    };
  } catch (e) {
    if (isVidxError(e, 'OBJECT_NOT_FOUND')) {
      deps.log.warn('ignored: object no longer exists', { ...log });
      return { videoId, outcome: 'ignored', why: e.message };
    }
    const failure = classifyFailure(e);
    if (failure.class === 'transient' || !isVidxError(e)) {
      deps.log.warn('transient failure: the event will be retried', { ...log, why: failure.why, error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
    facts = { ...base, status: 'failed', errorCode: e.code, reason: e.message, clipsTotal: 0 };
  }

  if (retryFailed && facts.status === 'failed' && facts.errorCode === existing.errorCode) {
    // The same bytes fail the same way: a duplicate (its event, if not delivered yet, goes now).
    deps.log.info('duplicate event: the revision fails the same way again', { ...log, errorCode: facts.errorCode });
    await notify(deps, existing);
    return { videoId, outcome: 'duplicate', status: existing.status };
  }
  const begun = await deps.store.beginRevision(facts, { replaceFailed: retryFailed });
  let video = begun.video;
  if (!begun.created) {
    if (video.enqueued === true || video.status === 'failed') {
      deps.log.info('duplicate event: revision already recorded', { ...log, status: video.status });
      await notify(deps, video);
      return { videoId, outcome: 'duplicate', status: video.status };
    }
    // Recorded, not yet enqueued: the recording event sends the jobs unless it has been silent for
    // longer than it could live (then it crashed, and exactly one of us takes over).
    const leaseMs = (deps.enqueueLeaseSeconds ?? DEFAULTS.segmenterTimeoutSeconds) * 1000;
    const silentMs = (deps.now ?? (() => new Date()))().getTime() - Date.parse(video.updatedAt);
    const claimed = silentMs >= leaseMs ? await deps.store.claimEnqueue(video) : undefined;
    if (!claimed) {
      deps.log.info('duplicate event: another event is enqueueing this revision', { ...log, silentMs });
      return { videoId, outcome: 'in-progress', why: 'another event is sending this revision\'s clip jobs' };
    }
    video = claimed;
  } else if (retryFailed) {
    // The failed attempt's clip items (permanent gaps) must not count as done for the retry.
    await deps.store.forgetDerived(videoId);
  }
  if (facts.status === 'failed') {
    // A failed new revision replaces the old timeline too: the object is no longer that video.
    const removed = existing ? await deps.store.forgetDerived(videoId) : 0;
    deps.log.warn('video failed', { ...log, errorCode: facts.errorCode, reason: facts.reason, removed });
    await notify(deps, video);
    return { videoId, outcome: 'failed', code: facts.errorCode ?? 'UNKNOWN', reason: facts.reason ?? '' };
  }
  try {
    await deps.queue.send(jobs);
  } catch (e) {
    if (!isVidxError(e, 'ENQUEUE_REJECTED')) throw e; // transient: the event is retried
    // Refused for good: say so on the video rather than retrying an event that cannot succeed.
    if (await deps.store.markFailed(videoId, revision, e.code, e.message)) {
      await deps.store.forgetDerived(videoId);
      const failed = await deps.store.getVideo(videoId);
      if (failed) await notify(deps, failed);
    }
    deps.log.error('video failed: its clip jobs were refused', { ...log, errorCode: e.code, reason: e.message });
    return { videoId, outcome: 'failed', code: e.code, reason: e.message };
  }
  await deps.store.markEnqueued(videoId, revision);
  deps.log.info('video queued', { ...log, clips: jobs.length, duration: facts.duration });
  return { videoId, outcome: 'queued', clips: jobs.length };
}

/** The revision's failed event, if events are on (a delivery failure throws: the S3 event is retried). */
async function notify(deps: SegmenterDeps, video: VideoRecord): Promise<void> {
  if (deps.events) await notifyIfFinal({ store: deps.store, sinks: deps.events.sinks, log: deps.log, delivery: deps.events.delivery }, video);
}
