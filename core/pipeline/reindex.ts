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
 *   fail again; upload the object again or re-index with another model).
 */
import { VidxError } from '../errors.ts';
import type { ClipJob } from '../messages.ts';
import { reindexEtag, type VideoRecord } from '../records.ts';
import { planClips } from './plan.ts';
import { missingClips } from './progress.ts';
import { segmentObject, type SegmenterDeps, type SegmentOutcome } from './segment.ts';

export const VIDEO_UNKNOWN = 'VIDEO_UNKNOWN';

export type ReindexOutcome =
  | { videoId: string; action: 'new-revision'; revision: string; result: SegmentOutcome }
  | { videoId: string; action: 'requeued'; clips: number }
  | { videoId: string; action: 'current'; status: string };

/** Whether the record's revision was made with the deps' model (unknown sha = the same architecture). */
export function sameModel(video: Pick<VideoRecord, 'model' | 'modelSha256'>, model: SegmenterDeps['model']): boolean {
  if (video.model !== model.architecture) return false;
  if (video.modelSha256 === undefined || model.manifestSha256 === undefined) return true;
  return video.modelSha256 === model.manifestSha256;
}

export async function reindexVideo(deps: SegmenterDeps, videoId: string): Promise<ReindexOutcome> {
  const video = await deps.store.getVideo(videoId);
  if (!video) throw new VidxError(VIDEO_UNKNOWN, `no video with id ${videoId}`, { hint: 'list videos with GET /videos' });

  if (!sameModel(video, deps.model)) {
    if (!deps.model.manifestSha256) throw new VidxError(VIDEO_UNKNOWN, 're-indexing with another model needs its manifest sha256');
    // The object's current etag: a re-index indexes what is in the bucket now.
    const head = await deps.objects.head(video.bucket, video.key);
    const revision = reindexEtag(head.etag, deps.model.manifestSha256);
    const result = await segmentObject(deps, { bucket: video.bucket, key: video.key, etag: head.etag, size: head.size, revision });
    deps.log.info('re-index: new revision', { videoId, revision, outcome: result.outcome, model: deps.model.architecture });
    return { videoId, action: 'new-revision', revision, result };
  }

  if (video.status === 'failed' || video.status === 'indexed') return { videoId, action: 'current', status: video.status };

  if (video.enqueued !== true) {
    // Recorded but its jobs never (all) went out: the segmenter's own retry path sends them.
    const head = await deps.objects.head(video.bucket, video.key);
    const result = await segmentObject(deps, { bucket: video.bucket, key: video.key, etag: head.etag, size: head.size, revision: video.etag });
    return { videoId, action: 'new-revision', revision: video.etag, result };
  }
  const jobs = requeueJobs(deps, video);
  await deps.queue.send(jobs);
  deps.log.info('re-index: clips re-enqueued', { videoId, etag: video.etag, clips: jobs.map((j) => j.clip.index) });
  return { videoId, action: 'requeued', clips: jobs.length };
}

/**
 * The jobs of the revision's clips still to do, planned again exactly as the segmenter planned
 * them (same windows, same clip length); when none is missing, the last clip's job, whose
 * redelivery makes a worker assemble (or, indexed, notify) again.
 */
export function requeueJobs(deps: Pick<SegmenterDeps, 'windowStarts' | 'clipSeconds'>, video: VideoRecord): ClipJob[] {
  const plan = planClips(deps.windowStarts(video.duration ?? 0), video.clipSeconds ?? deps.clipSeconds);
  if (plan.length !== video.clipsTotal) {
    throw new VidxError(VIDEO_UNKNOWN, `video ${video.videoId}: planning again gives ${plan.length} clips, the revision has ${video.clipsTotal}`, {
      hint: 'upload it again (a new revision is planned from scratch)',
    });
  }
  const missing = missingClips(video);
  const indices = missing.length > 0 ? missing : [plan.length - 1];
  return indices.map((i) => {
    const c = plan[i]!;
    return {
      v: 1,
      videoId: video.videoId,
      bucket: video.bucket,
      key: video.key,
      etag: video.etag,
      clip: { index: c.index, count: c.count, start: c.start, end: c.end },
      model: video.model,
      ...(video.modelSha256 ? { modelSha256: video.modelSha256 } : {}),
    };
  });
}
