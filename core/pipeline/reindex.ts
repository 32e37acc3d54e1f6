/**
 * Re-index an existing video (issue 11): with another model, or to finish one that is stuck.
 *
 * - Another model (the record's manifest sha256 differs, or the last revision failed with
 *   another model): a NEW revision of the same object, token reindexEtag(objectEtag, sha), planned
 *   and enqueued by the segmenter's own use case. The old timeline stays searchable until the new
 *   one commits, exactly as with a re-upload (assembly replaces it whole).
 * - The same model, revision unfinished (queued/processing whose messages were lost, a restart of
 *   `vidx local`, a purged queue): re-enqueue the clips not in its done set; if every clip is done
 *   but the timeline was never assembled, re-send the last clip so a worker assembles it.
 * - The same model, already indexed or failed: nothing to do (a failure with the same model would
 *   fail again; upload the object again or re-index with another model), except with
 *   `retryFailed`: a video that failed for a transient reason (core/failure-class.ts: a timeout,
 *   an unreachable source, lost jobs) is segmented again, as a re-upload of its bytes would be.
 */
import { VidxError, isErrorCode } from '../errors.ts';
import { classifyFailure } from '../failure-class.ts';
import { isIndexed, objectEtagOf, reindexEtag, type VideoRecord } from '../records.ts';
import { requeueMissing } from './requeue.ts';
import { segmentObject, type SegmenterDeps, type SegmentOutcome } from './segment.ts';

export type ReindexOutcome =
  | { videoId: string; action: 'new-revision'; revision: string; result: SegmentOutcome }
  | { videoId: string; action: 'requeued'; clips: number }
  /** A video that had failed for a transient reason, segmented again (`retryFailed`). */
  | { videoId: string; action: 'retried'; revision: string; result: SegmentOutcome }
  | { videoId: string; action: 'current'; status: string };

/** Whether the record's revision was made with the deps' model (unknown sha = the same architecture). */
export function sameModel(video: Pick<VideoRecord, 'model' | 'modelSha256'>, model: SegmenterDeps['model']): boolean {
  if (video.model !== model.architecture) return false;
  if (video.modelSha256 === undefined || model.manifestSha256 === undefined) return true;
  return video.modelSha256 === model.manifestSha256;
}

/** Whether a failed video failed for a transient reason (worth retrying as it is). */
export function failedTransiently(video: Pick<VideoRecord, 'status' | 'errorCode' | 'reason'>): boolean {
  if (video.status !== 'failed') return false;
  if (!isErrorCode(video.errorCode)) return true; // not a code of ours: not known to be the file
  return classifyFailure(new VidxError(video.errorCode, video.reason ?? '')).class === 'transient';
}

export interface ReindexOptions {
  /** Also retry videos that failed for a transient reason (`vidx reindex --retry-failed`). */
  retryFailed?: boolean;
}

export async function reindexVideo(deps: SegmenterDeps, videoId: string, options: ReindexOptions = {}): Promise<ReindexOutcome> {
  const video = await deps.store.getVideo(videoId);
  if (!video) throw new VidxError('VIDEO_NOT_FOUND', `no video with id ${videoId}`, { hint: 'list videos with GET /videos' });

  if (options.retryFailed && failedTransiently(video) && sameModel(video, deps.model)) {
    // The segmenter's own path for a failed revision's bytes: probed again, planned, enqueued.
    const head = await deps.objects.head(video.bucket, video.key);
    const revision = head.etag === objectEtagOf(video.etag) ? video.etag : head.etag;
    const result = await segmentObject(deps, { bucket: video.bucket, key: video.key, etag: head.etag, size: head.size, revision });
    deps.log.info('re-index: failed video retried', { videoId, errorCode: video.errorCode, outcome: result.outcome });
    return { videoId, action: 'retried', revision, result };
  }

  if (!sameModel(video, deps.model)) {
    if (!deps.model.manifestSha256) throw new VidxError('BAD_OPTION', 're-indexing with another model needs its manifest sha256');
    // The object's current etag: a re-index indexes what is in the bucket now.
    const head = await deps.objects.head(video.bucket, video.key);
    const revision = reindexEtag(head.etag, deps.model.manifestSha256);
    const result = await segmentObject(deps, { bucket: video.bucket, key: video.key, etag: head.etag, size: head.size, revision });
    deps.log.info('re-index: new revision', { videoId, revision, outcome: result.outcome, model: deps.model.architecture });
    return { videoId, action: 'new-revision', revision, result };
  }

  if (video.status === 'failed' || isIndexed(video.status)) return { videoId, action: 'current', status: video.status };

  if (video.enqueued !== true) {
    // Recorded but its jobs never (all) went out: the segmenter's own retry path sends them.
    const head = await deps.objects.head(video.bucket, video.key);
    const result = await segmentObject(deps, { bucket: video.bucket, key: video.key, etag: head.etag, size: head.size, revision: video.etag });
    return { videoId, action: 'new-revision', revision: video.etag, result };
  }
  // h12a's re-enqueue (the same one a re-upload and the sweeper use).
  const r = await requeueMissing(deps, video, 're-index');
  if (!r.requeued) throw new VidxError('REINDEX_NO_PLAN', `video ${videoId} cannot be resumed: ${r.why}`);
  // With every clip done, requeueMissing sent the last clip's job again: a worker assembles it.
  return { videoId, action: 'requeued', clips: Math.max(1, r.clips) };
}
