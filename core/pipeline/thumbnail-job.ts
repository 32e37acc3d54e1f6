/**
 * A thumbnail job (core/messages.ts ThumbnailJob): cut one JPEG per chosen frame of an indexed
 * revision and set `thumbAt` on its segments. Runs on a CPU consumer (a Lambda deployed, the stack
 * process locally), so the GPU worker's batch never waits on up to MAX_THUMBNAILS ffmpeg seeks.
 *
 * Idempotent: keys are deterministic, a repeated job overwrites the same objects and sets the
 * same times. A job of a revision that is no longer current, or failed, is dropped; one that
 * arrives before its revision is marked indexed (the worker sends it just before) is retried.
 * A frame that cannot be cut for a permanent reason leaves its segments without a thumbnail; a
 * transient failure of any frame throws after the others are done, so the job is retried. Once the
 * segments have their times, the video's cover (its picture in lists) is set from them, as
 * assembly does when it cuts the frames itself.
 */
import { VidxError } from '../errors.ts';
import { classifyFailure } from '../failure-class.ts';
import type { ThumbnailJob } from '../messages.ts';
import { ClipWindowsSchema, isIndexed, thumbnailKey } from '../records.ts';
import { collectWindows } from './assemble.ts';
import type { PipelineLog, ThumbnailWriter, VideoIndex, VideoObjects } from './ports.ts';
import { MAX_THUMBNAILS, coverOf, thumbnailTimes } from './thumbnails.ts';

export interface ThumbnailJobDeps {
  store: Pick<VideoIndex, 'getVideo' | 'timelineOf' | 'clipsOf' | 'setThumbnailTime' | 'setCover'>;
  objects: Pick<VideoObjects, 'readable'>;
  thumbnails: Pick<ThumbnailWriter, 'write'>;
  log: PipelineLog;
  /** Frames cut at once (each one ffmpeg seek over the presigned URL). */
  concurrency?: number;
  /** Looks (500 ms apart) at a revision not yet marked indexed before the job is handed back. */
  settleLooks?: number;
}

export type ThumbnailOutcome = { kind: 'done'; frames: number; segments: number; coverAt?: number | undefined } | { kind: 'stale'; why: string };

export async function processThumbnailJob(deps: ThumbnailJobDeps, job: ThumbnailJob): Promise<ThumbnailOutcome> {
  let video = await deps.store.getVideo(job.videoId);
  // The worker sends the job just before it marks the revision indexed: give the mark a moment.
  for (let look = 0; look < (deps.settleLooks ?? 6) && video && video.etag === job.etag && video.status !== 'failed' && !isIndexed(video.status); look++) {
    await new Promise((res) => setTimeout(res, 500));
    video = await deps.store.getVideo(job.videoId);
  }
  if (!video || video.etag !== job.etag) return { kind: 'stale', why: 'the video has a newer revision (or no record)' };
  if (video.status === 'failed') return { kind: 'stale', why: 'the revision failed' };
  if (!isIndexed(video.status)) {
    throw new VidxError('ASSEMBLY_INCOMPLETE', `video ${job.videoId} is ${video.status}: its timeline is not committed yet; the thumbnail job is retried`);
  }
  const segments = (await deps.store.timelineOf(job.videoId)).filter((s) => s.etag === job.etag);
  if (segments.length === 0) return { kind: 'done', frames: 0, segments: 0 };
  const clips = await deps.store.clipsOf(job.videoId, job.etag);
  const windows = collectWindows(clips.map((c) => ({ index: c.index, windows: ClipWindowsSchema.parse(JSON.parse(c.windows)) })), video.clipsTotal);
  const chosen = thumbnailTimes(segments, windows, MAX_THUMBNAILS, video.duration);
  const frames = [...new Set(chosen.values())];
  const source = await deps.objects.readable(job.bucket, job.key);
  const written = new Set<number>();
  let transient: unknown;
  let next = 0;
  const run = async () => {
    while (next < frames.length) {
      const at = frames[next++]!;
      try {
        await deps.thumbnails.write(job.bucket, thumbnailKey(job.videoId, job.etag, at), source, at);
        written.add(at);
      } catch (e) {
        const failure = classifyFailure(e);
        if (failure.class === 'transient') transient ??= e;
        deps.log.warn('thumbnail not written', { videoId: job.videoId, at, class: failure.class, error: source.redact(e instanceof Error ? e.message : String(e)) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 4, frames.length) }, run));
  let updated = 0;
  const timed: { score: number; thumbAt: number }[] = [];
  for (const [i, at] of chosen) {
    const segment = segments[i]!;
    if (!written.has(at) || !(await deps.store.setThumbnailTime(job.videoId, job.etag, segment, at))) continue;
    updated++;
    timed.push({ score: segment.score, thumbAt: at });
  }
  // The cover, guarded on the revision like the times: a newer revision keeps its own.
  const coverAt = coverOf(timed);
  const covered = coverAt !== undefined && (await deps.store.setCover(job.videoId, job.etag, coverAt));
  deps.log.info('thumbnails written', { videoId: job.videoId, etag: job.etag, frames: written.size, of: frames.length, segments: updated, ...(covered ? { coverAt } : {}) });
  if (transient !== undefined) throw transient;
  return { kind: 'done', frames: written.size, segments: updated, ...(covered ? { coverAt } : {}) };
}
