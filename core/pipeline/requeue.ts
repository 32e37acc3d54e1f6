/**
 * Sending a revision's missing clips again: the clip jobs of the clips not in its done set, built
 * from the plan kept on its record. Used when the same object is uploaded again while its video
 * is unfinished, and by the sweeper (sweep.ts) when a video has made no progress for too long.
 */
import type { ClipJob } from '../messages.ts';
import type { VideoRecord } from '../records.ts';
import { missingClips } from './progress.ts';
import type { ClipQueue, VideoIndex, PipelineLog } from './ports.ts';

export interface RequeueDeps {
  queue: Pick<ClipQueue, 'send'>;
  store: Pick<VideoIndex, 'claimRequeue'>;
  log: PipelineLog;
}

export type RequeueResult = { requeued: true; clips: number; video: VideoRecord } | { requeued: false; why: string };

/** The jobs of the clips not yet done, or undefined when the record has no clip plan (older records). */
export function missingJobs(video: VideoRecord): ClipJob[] | undefined {
  const starts = video.clipStarts;
  const seconds = video.clipSeconds;
  if (!starts || seconds === undefined || starts.length !== video.clipsTotal) return undefined;
  return missingClips(video).map((index) => ({
    v: 1 as const,
    videoId: video.videoId,
    bucket: video.bucket,
    key: video.key,
    etag: video.etag,
    clip: { index, count: video.clipsTotal, start: starts[index]!, end: starts[index]! + seconds },
    model: video.model,
  }));
}

/** The job of a revision's last clip, from the plan kept on its record. */
export function lastClipJob(video: VideoRecord): ClipJob {
  const index = video.clipsTotal - 1;
  const start = video.clipStarts?.[index] ?? 0;
  return {
    v: 1,
    videoId: video.videoId,
    bucket: video.bucket,
    key: video.key,
    etag: video.etag,
    clip: { index, count: video.clipsTotal, start, end: start + (video.clipSeconds ?? 1) },
    model: video.model,
    ...(video.modelSha256 ? { modelSha256: video.modelSha256 } : {}),
  };
}

/**
 * Claims the revision as seen (so concurrent callers send once), then sends its missing clips.
 * When none is missing but the revision is not indexed (a stop or a failure between the last
 * clip and assembly), the last clip's job is sent again: the worker finds its result stored and
 * assembles. Duplicates of clips still queued or in flight are harmless: the worker is idempotent.
 * `clips` counts the missing clips sent (0 for an assembly-only re-send).
 */
export async function requeueMissing(deps: RequeueDeps, video: VideoRecord, why: string): Promise<RequeueResult> {
  const ctx = { videoId: video.videoId, key: video.key, etag: video.etag, why };
  if (!missingJobs(video)) {
    deps.log.warn('cannot re-enqueue: the record predates kept clip plans; upload the file under a new name or change it', ctx);
    return { requeued: false, why: 'the record has no clip plan' };
  }
  const claimed = await deps.store.claimRequeue(video);
  if (!claimed) return { requeued: false, why: 'the record changed meanwhile (progress, a new upload, or another re-enqueue)' };
  const jobs = missingJobs(claimed) ?? [];
  if (jobs.length > 0) await deps.queue.send(jobs);
  else if (claimed.clipsTotal > 0 && claimed.status !== 'indexed') await deps.queue.send([lastClipJob(claimed)]);
  deps.log.info(jobs.length > 0 ? 'missing clips re-enqueued' : 'every clip is done: last clip re-enqueued for assembly', { ...ctx, clips: jobs.map((j) => j.clip.index), requeues: claimed.requeues });
  return { requeued: true, clips: jobs.length, video: claimed };
}
