/**
 * One clip job, idempotently: score the clip (unless its result is already stored), store the
 * result, add the clip to the revision's done set, and, when the set is complete, assemble the
 * video's timeline. Every step can crash and be redelivered; see docs/decisions.md (pipeline).
 *
 * Failures are sorted by core/failure-class.ts. A transient one (a reset read, a timeout, a
 * signal, out of memory, throttling) is retried with backoff (the message goes back to the queue)
 * and never fails the video nor deletes a result. A permanent one (the file itself) makes the clip
 * a gap: stored with its error and no windows, so the rest of the video is still indexed, as
 * `indexed_with_gaps` listing the missing ranges; only a video whose every clip is a gap fails.
 */
import { isVidxError, type ErrorCode } from '../errors.ts';
import { classifyFailure } from '../failure-class.ts';
import type { ClipJob } from '../messages.ts';
import { ClipKeyframesSchema, ClipWindowsSchema, isIndexed, thumbnailKey, thumbnailPrefix, thumbnailRevisionPrefix, type ClipRecord, type Gap, type VideoRecord } from '../records.ts';
import type { TimelineSegment } from '../index/port.ts';
import type { TimelineOptions, WindowScore } from '../result.ts';
import { MAX_THUMBNAILS, coverOf, thumbnailTimes } from './thumbnails.ts';
import { ownedBy } from './plan.ts';
import { buildTimeline } from './assemble.ts';
import { keyframesInClip } from '../detection/keyframes.ts';
import type { PersonTimelineOptions } from '../detection/defaults.ts';
import { isComplete, PROGRESS_REPORT_SECONDS, throttledReporter } from './progress.ts';
import type { VideoIndex, PipelineLog, ThumbnailJobs, ThumbnailWriter, VideoObjects } from './ports.ts';
import type { ClipScorer } from './clip-scorer.ts';
import type { DeliveryOptions, EventSink } from '../events/deliver.ts';
import { notifyIfFinal } from './notify.ts';
import type { VectorIndex } from '../vectors/port.ts';
import type { WindowFeatures } from './clip-scorer.ts';

/** What became of a job. `retry` = transient: the message goes back to the queue. `gap`: done, without windows. */
export type ClipOutcome =
  | { kind: 'done'; assembled: boolean; skippedInference: boolean; gap?: { code: string; reason: string } }
  | { kind: 'stale'; why: string }
  | { kind: 'failed'; code: ErrorCode; reason: string }
  | { kind: 'retry'; error: unknown };

export interface ClipDeps {
  objects: Pick<VideoObjects, 'readable'>;
  store: VideoIndex;
  scorer: ClipScorer;
  timeline: Pick<TimelineOptions, 'threshold' | 'gap'>;
  /** Person-timeline options where the deployment detects people (core/detection/defaults.ts). */
  people?: PersonTimelineOptions;
  log: PipelineLog;
  /** Where done/failed events go (none = no events). */
  events?: { sinks: readonly EventSink[]; delivery?: DeliveryOptions } | undefined;
  /** Where moment vectors are kept (window features per clip); absent = none kept. */
  vectors?: VectorIndex | undefined;
  /**
   * Thumbnails: with `thumbnailJobs`, assembly sends one thumbnail job per revision to a CPU
   * consumer (core/pipeline/thumbnail-job.ts) and `thumbnails` only prunes older revisions'; without
   * it, `thumbnails` writes one JPEG per segment at assembly. Neither = no thumbnails.
   */
  thumbnails?: ThumbnailWriter | undefined;
  thumbnailJobs?: ThumbnailJobs | undefined;
  /** How often a clip's scored units are written (default PROGRESS_REPORT_SECONDS; tests: 0). */
  progressEverySeconds?: number;
  /** Test hooks for crash simulation (never set in production). */
  hooks?: { afterClipWrite?(job: ClipJob): Promise<void> | void; beforeAssemblyCommit?(job: ClipJob): Promise<void> | void };
}

export async function processClip(deps: ClipDeps, job: ClipJob, signal: AbortSignal): Promise<ClipOutcome> {
  const ctx = { videoId: job.videoId, key: job.key, etag: job.etag, clip: job.clip.index, clips: job.clip.count };
  try {
    const video = await deps.store.getVideo(job.videoId);
    if (!video || video.etag !== job.etag) return { kind: 'stale', why: 'the video has a newer revision (or no record)' };
    if (video.status === 'failed') {
      await notify(deps, video); // its event, if a crash kept it from being delivered
      return { kind: 'stale', why: 'the video already failed' };
    }
    // Only the architecture must match (it fixes the windows). Other weights of it are scored and
    // recorded as what made the timeline (`indexedWith`): the segmenter's manifest file and the
    // worker image's may differ in bytes for the same model, so a sha mismatch is no reason to fail.
    if (job.model !== deps.scorer.architecture) {
      const reason = `the clip was planned for model ${job.model} but this worker runs ${deps.scorer.architecture}`;
      if (await deps.store.markFailed(job.videoId, job.etag, 'MODEL_MISMATCH', reason)) await notifyCurrent(deps, job.videoId);
      return { kind: 'failed', code: 'MODEL_MISMATCH', reason };
    }

    let skippedInference = true;
    let gap: { code: string; reason: string } | undefined;
    const stored = await deps.store.hasClip(job.videoId, job.etag, job.clip.index);
    if (!stored) {
      skippedInference = false;
      if (video.status === 'queued') await deps.store.markProcessing(job.videoId, job.etag);
      const duration = video.duration ?? 0;
      const windows = ownedBy(deps.scorer.windowsFor(duration), job.clip);
      const keyframes = deps.scorer.keyframesFor ? keyframesInClip(deps.scorer.keyframesFor(duration), job.clip.start, job.clip.end) : [];
      const source = await deps.objects.readable(job.bucket, job.key);
      const t0 = performance.now();
      const progress = throttledReporter(
        (n) => deps.store.recordClipProgress(job.videoId, job.etag, job.clip.index, n),
        (deps.progressEverySeconds ?? PROGRESS_REPORT_SECONDS) * 1000,
        (e) => deps.log.warn('clip progress not recorded', { ...ctx, error: e instanceof Error ? e.message : String(e) }),
      );
      let out: Awaited<ReturnType<ClipScorer['score']>>;
      try {
        if (windows.length === 0 && keyframes.length === 0) out = { windows: [], decodeMs: 0, inferenceMs: 0 };
        else {
          progress.start();
          const facts = { duration, fps: video.fps ?? 0, width: video.width ?? 0, height: video.height ?? 0, rotation: video.rotation ?? 0 };
          out = await deps.scorer.score(source.url, facts, windows, signal, keyframes, (n) => progress.report(n));
        }
      } catch (e) {
        await progress.settle();
        const failure = classifyFailure(e);
        if (failure.class === 'transient' || signal.aborted || !isVidxError(e)) {
          deps.log.warn('clip failed transiently: retried', { ...ctx, why: failure.why, error: source.redact(e instanceof Error ? e.message : String(e)) });
          throw e;
        }
        // The file itself: this clip becomes a gap; the other clips still make the timeline.
        const reason = `clip ${job.clip.index + 1} of ${job.clip.count} (${job.clip.start}s to ${job.clip.end}s) could not be decoded: ${source.redact(e.message)}`;
        gap = { code: e.code, reason };
        deps.log.warn('clip failed for good: a gap in the timeline', { ...ctx, errorCode: e.code, reason });
        out = { windows: [], decodeMs: 0, inferenceMs: 0 };
      }
      // The vectors before the clip result: a stored clip implies its vectors, so a redelivery that
      // skips inference has nothing left to write. Rewriting a part replaces it (idempotent).
      if (deps.vectors && out.features) await putWindowVectors(deps.vectors, job, out.features);
      await progress.settle();
      try {
        await deps.store.recordClip({
          videoId: job.videoId,
          etag: job.etag,
          index: job.clip.index,
          start: job.clip.start,
          end: job.clip.end,
          windows: JSON.stringify(out.windows),
          ...(out.keyframes ? { keyframes: JSON.stringify(out.keyframes) } : {}),
          device: deps.scorer.device,
          ...(gap ? { gap: { errorCode: gap.code, reason: gap.reason } } : {}),
        });
      } catch (e) {
        // A result the index can never store would fail the same way on every delivery: fail the video now.
        if (!isVidxError(e, 'CLIP_TOO_LARGE')) throw e;
        if (await deps.store.markFailed(job.videoId, job.etag, e.code, e.message)) {
          await deps.store.forgetDerived(job.videoId);
          await deps.vectors?.removeVideo(job.videoId);
          await notifyCurrent(deps, job.videoId);
        }
        deps.log.warn('clip failed for good', { ...ctx, errorCode: e.code, reason: e.message });
        return { kind: 'failed', code: e.code, reason: e.message };
      }
      deps.log.info('clip scored', {
        ...ctx,
        windows: out.windows.length,
        ...(out.keyframes ? { keyframes: out.keyframes.length, people: out.keyframes.reduce((n, k) => n + k.people.length, 0) } : {}),
        decodeMs: Math.round(out.decodeMs),
        inferenceMs: Math.round(out.inferenceMs),
        totalMs: Math.round(performance.now() - t0),
        device: deps.scorer.device,
      });
      await deps.hooks?.afterClipWrite?.(job);
    }

    const after = await deps.store.markClipDone(job.videoId, job.etag, job.clip.index);
    if (!after) return { kind: 'stale', why: 'the revision changed or failed while the clip was scored' };
    let assembled = false;
    // Whoever sees the set complete while the video is not indexed assembles (again): the
    // completing worker normally, any redelivered one if that worker crashed mid-assembly.
    if (isComplete(after) && !isIndexed(after.status)) {
      assembled = await assemble(deps, after, job);
    }
    // The indexed event, once per revision: sent by the assembler, or by whoever finds the revision
    // indexed but its event undelivered (a crash, a sink down: this message is then retried).
    if (isComplete(after)) await notifyCurrent(deps, job.videoId, job.etag);
    return { kind: 'done', assembled, skippedInference, ...(gap ? { gap } : {}) };
  } catch (e) {
    return { kind: 'retry', error: e };
  }
}

/**
 * Builds the revision's segments from its stored clips, writes them (deterministic identity),
 * removes segments and clip results that are not part of it, then marks the video indexed. Re-running it
 * converges to the same items. If the revision changed meanwhile, the current one is repaired.
 */
export async function assemble(deps: Pick<ClipDeps, 'store' | 'timeline' | 'people' | 'log' | 'hooks' | 'scorer'> & Partial<Pick<ClipDeps, 'thumbnails' | 'thumbnailJobs' | 'objects' | 'vectors'>>, video: VideoRecord, job?: ClipJob): Promise<boolean> {
  const t0 = performance.now();
  const clips = await deps.store.clipsOf(video.videoId, video.etag, { keyframes: true });
  const gaps = gapsOf(clips);
  if (clips.length > 0 && gaps.length === video.clipsTotal) {
    // Every clip failed for good: nothing of the video can be indexed.
    const first = gaps[0]!;
    const reason = video.clipsTotal === 1 ? first.reason : `every clip failed for good; the first: ${first.reason}`;
    // Its failed event goes out from processClip, as every final revision's does.
    if (await deps.store.markFailed(video.videoId, video.etag, first.errorCode, reason)) {
      await deps.store.forgetDerived(video.videoId);
      await deps.vectors?.removeVideo(video.videoId);
    }
    deps.log.warn('video failed: every clip failed for good', { videoId: video.videoId, etag: video.etag, errorCode: first.errorCode });
    return false;
  }
  const owner = { videoId: video.videoId, key: video.key, etag: video.etag };
  const { windows, items } = buildTimeline(
    owner,
    clips.map((c) => ({ index: c.index, windows: ClipWindowsSchema.parse(JSON.parse(c.windows)), keyframes: c.keyframes ? ClipKeyframesSchema.parse(JSON.parse(c.keyframes)) : undefined })),
    video.clipsTotal,
    { ...deps.timeline, minDuration: 0 },
    { from: 'keyframes', options: deps.people ? { ...deps.people, duration: video.duration ?? 0 } : undefined },
  );
  // Off the GPU's path when a thumbnail queue is configured: the job is sent once the items are in.
  const thumbnails = deps.thumbnailJobs ? 0 : await writeThumbnails(deps, video, items, windows);
  await deps.store.writeTimeline(owner, items);
  if (job) await deps.hooks?.beforeAssemblyCommit?.(job);
  const removed = await deps.store.pruneTimeline(owner, items);
  // Before the revision is marked indexed, so a failed send retries this assembly (the consumer
  // retries a job that arrives before the mark).
  if (deps.thumbnailJobs && items.length > 0) await deps.thumbnailJobs.send({ v: 1, videoId: video.videoId, bucket: video.bucket, key: video.key, etag: video.etag });
  // The model that made the timeline: the assembling worker's (workers of one deployment run one model).
  const s = deps.scorer;
  const made = { architecture: s.architecture, ...(s.manifestSha256 ? { manifestSha256: s.manifestSha256 } : {}), trained: s.trained };
  const ok = await deps.store.commitTimeline(video.videoId, video.etag, items.length, made, coverOf(items), gaps);
  const pruned = ok ? await pruneOldThumbnails(deps, video) : 0;
  // The vectors of older revisions go once this one is the index's (like its thumbnails).
  const vectorsRemoved = ok && deps.vectors ? await deps.vectors.removeVideo(video.videoId, video.etag) : 0;
  deps.log.info('timeline assembled', {
    videoId: video.videoId,
    etag: video.etag,
    windows: windows.length,
    segments: items.length,
    thumbnails,
    removed,
    thumbnailsRemoved: pruned,
    vectorsRemoved,
    gaps: gaps.length,
    ms: Math.round(performance.now() - t0),
    committed: ok,
  });
  if (!ok) {
    // A newer revision arrived while we assembled: our writes may have overwritten its segments.
    // If that revision is complete, re-assemble it so the index converges to it.
    const now = await deps.store.getVideo(video.videoId);
    if (now && now.etag !== video.etag && now.status !== 'failed' && isComplete(now)) {
      await assemble(deps, now);
    }
  }
  return ok;
}

/** The revision's gaps: its clips that failed for good, in time order. */
function gapsOf(clips: readonly ClipRecord[]): Gap[] {
  return clips
    .filter((c) => c.gap)
    .map((c) => ({ start: c.start, end: c.end, clip: c.index, errorCode: c.gap!.errorCode, reason: c.gap!.reason }))
    .sort((a, b) => a.start - b.start);
}

async function notify(deps: Pick<ClipDeps, 'store' | 'events' | 'log'>, video: VideoRecord): Promise<void> {
  if (deps.events) await notifyIfFinal({ store: deps.store, sinks: deps.events.sinks, log: deps.log, delivery: deps.events.delivery }, video);
}

/** The event of the video's current revision (only if it is `etag`'s, when given) once it is final. */
async function notifyCurrent(deps: Pick<ClipDeps, 'store' | 'events' | 'log'>, videoId: string, etag?: string): Promise<void> {
  if (!deps.events || deps.events.sinks.length === 0) return;
  const video = await deps.store.getVideo(videoId);
  if (video && (etag === undefined || video.etag === etag)) await notify(deps, video);
}

/**
 * Deletes the thumbnails of the video's other revisions once this one is indexed, so a re-upload
 * leaves no orphaned JPEGs. The revision is re-read after listing: a newer revision begins by
 * changing the video record before any of its clips is scored, so if the record still names this
 * revision, every thumbnail listed belongs to an older one. Best effort: a failure is logged, the
 * next indexed revision prunes again.
 */
async function pruneOldThumbnails(deps: Pick<ClipDeps, 'store' | 'log'> & Partial<Pick<ClipDeps, 'thumbnails'>>, video: VideoRecord): Promise<number> {
  const thumbnails = deps.thumbnails;
  if (!thumbnails) return 0;
  try {
    const keep = thumbnailRevisionPrefix(video.videoId, video.etag);
    const old = (await thumbnails.list(video.bucket, thumbnailPrefix(video.videoId))).filter((k) => !k.startsWith(keep));
    if (old.length === 0) return 0;
    if ((await deps.store.getVideo(video.videoId))?.etag !== video.etag) return 0;
    await thumbnails.remove(video.bucket, old);
    return old.length;
  } catch (e) {
    deps.log.warn('old thumbnails not removed', { videoId: video.videoId, error: e instanceof Error ? e.message : String(e) });
    return 0;
  }
}

/** Thumbnail frames written in parallel (each is one ffmpeg seek over the presigned URL). */
const THUMBNAIL_CONCURRENCY = 4;

/**
 * Writes a JPEG per chosen frame and sets `thumbAt` on the items whose frame was written. Best
 * effort: a frame that cannot be cut leaves its segments without a thumbnail (logged), never the
 * video unindexed. Keys are deterministic, so a repeated assembly overwrites the same objects.
 */
async function writeThumbnails(
  deps: Pick<ClipDeps, 'log'> & Partial<Pick<ClipDeps, 'thumbnails' | 'objects'>>,
  video: VideoRecord,
  items: TimelineSegment[],
  windows: readonly WindowScore[],
): Promise<number> {
  if (!deps.thumbnails || !deps.objects || items.length === 0) return 0;
  const writer = deps.thumbnails;
  const chosen = thumbnailTimes(items, windows, MAX_THUMBNAILS, video.duration);
  const frames = [...new Set(chosen.values())];
  const source = await deps.objects.readable(video.bucket, video.key);
  const written = new Set<number>();
  let next = 0;
  const run = async () => {
    while (next < frames.length) {
      const at = frames[next++]!;
      try {
        await writer.write(video.bucket, thumbnailKey(video.videoId, video.etag, at), source, at);
        written.add(at);
      } catch (e) {
        deps.log.warn('thumbnail not written', { videoId: video.videoId, at, error: source.redact(e instanceof Error ? e.message : String(e)) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(THUMBNAIL_CONCURRENCY, frames.length) }, run));
  for (const [i, at] of chosen) if (written.has(at)) items[i]!.thumbAt = at;
  return written.size;
}

/** The clip's window features as one part of the revision in the window.action space. */
async function putWindowVectors(vectors: VectorIndex, job: ClipJob, features: readonly WindowFeatures[]): Promise<void> {
  await vectors.putPart('window.action', { videoId: job.videoId, revision: job.etag, part: job.clip.index }, features.map((f) => ({
    moment: { videoId: job.videoId, revision: job.etag, kind: 'window' as const, start: f.start, end: f.end },
    vector: f.vector,
  })));
}
