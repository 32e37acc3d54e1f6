/**
 * What the pipeline's use cases (segment.ts, process-clip.ts) need from the outside world, as
 * interfaces: the object store, the clip queue and the index. adapters/ implements them over the
 * AWS SDK (S3, SQS, DynamoDB); tests and `vidx local` use the same adapters against emulators.
 */
import type { ClipJob, ThumbnailJob } from '../messages.ts';
import type { ClipRecord, Gap, ModelRef, SegmentRecord, VideoRecord, VideoStatus } from '../records.ts';

/** The object named by an event or a job is gone (deleted after upload). */

export interface ObjectHead {
  size: number;
  etag: string;
  contentType: string | undefined;
}

/** A URL a tool (ffprobe, ffmpeg) can read, and how to scrub it from that tool's messages. */
export interface ReadableObject {
  url: string;
  /** The message with the URL replaced by s3://bucket/key (no credentials in stored reasons). */
  redact(message: string): string;
}

export interface VideoObjects {
  /** Size and etag; a missing object throws VidxError OBJECT_NOT_FOUND. */
  head(bucket: string, key: string): Promise<ObjectHead>;
  readable(bucket: string, key: string): Promise<ReadableObject>;
}

export interface ClipQueue {
  /**
   * Sends every job. Throws VidxError ENQUEUE_REJECTED when the queue refuses them for good, and
   * anything else for faults worth retrying (see adapters/queue.ts).
   */
  send(jobs: readonly ClipJob[]): Promise<number>;
  /** Messages waiting to be received (approximate; in-flight ones are not counted). */
  waiting(): Promise<number>;
}

/** The video facts the segmenter records with a new revision. */
export interface RevisionFacts {
  videoId: string;
  bucket: string;
  key: string;
  etag: string;
  size?: number | undefined;
  status: Extract<VideoStatus, 'queued' | 'failed'>;
  reason?: string | undefined;
  errorCode?: string | undefined;
  duration?: number | undefined;
  fps?: number | undefined;
  width?: number | undefined;
  height?: number | undefined;
  rotation?: number | undefined;
  codec?: string | undefined;
  model: string;
  trained: boolean;
  /** sha256 of the model's manifest. */
  modelSha256?: string | undefined;
  clipsTotal: number;
  clipSeconds?: number | undefined;
  clipStarts?: number[] | undefined;
}

export type BeginResult = { created: true; video: VideoRecord } | { created: false; video: VideoRecord };

export interface ItemKey {
  PK: string;
  SK: string;
}

/** The index as the use cases write it (adapters/index-store.ts IndexStore implements it). */
export interface PipelineIndex {
  getVideo(videoId: string): Promise<VideoRecord | undefined>;
  /** `replaceFailed`: a failed record of the same etag is replaced too (a retry of that revision). */
  beginRevision(f: RevisionFacts, options?: { replaceFailed?: boolean }): Promise<BeginResult>;
  /**
   * Takes over sending a recorded but not enqueued revision: succeeds (the record, updatedAt now)
   * only while it is still as seen (same etag and updatedAt, queued, not enqueued), so of several
   * concurrent takers exactly one sends.
   */
  claimEnqueue(video: Pick<VideoRecord, 'videoId' | 'etag' | 'updatedAt'>): Promise<VideoRecord | undefined>;
  markEnqueued(videoId: string, etag: string): Promise<boolean>;
  markProcessing(videoId: string, etag: string): Promise<boolean>;
  markFailed(videoId: string, etag: string, errorCode: string, reason: string): Promise<boolean>;
  /**
   * `made` = the model that made the timeline (kept on the record as `indexedWith`); `coverAt` = the
   * time of the thumbnail that stands for the video in lists (absent = none); `gaps` = the ranges of
   * clips that failed for good (status indexed_with_gaps when there are any).
   */
  markIndexed(videoId: string, etag: string, segments: number, made?: ModelRef, coverAt?: number, gaps?: readonly Gap[]): Promise<boolean>;
  markNotified(videoId: string, etag: string, eventId: string): Promise<boolean>;
  segmentsOf(videoId: string): Promise<SegmentRecord[]>;
  putClip(clip: Omit<ClipRecord, 'PK' | 'SK' | 'createdAt'>): Promise<void>;
  getClip(videoId: string, etag: string, index: number): Promise<ClipRecord | undefined>;
  addDoneClip(videoId: string, etag: string, index: number): Promise<VideoRecord | undefined>;
  clipsOf(videoId: string, etag: string): Promise<ClipRecord[]>;
  keysUnder(videoId: string, prefix: string): Promise<ItemKey[]>;
  batchWrite(puts: readonly SegmentRecord[], deletes: readonly ItemKey[]): Promise<void>;
  deleteDerived(videoId: string): Promise<number>;
  /** Sets a segment item's thumbnail time, only while the item exists and belongs to revision `etag`. */
  setThumbAt(videoId: string, sk: string, etag: string, at: number): Promise<boolean>;
  /**
   * Takes the right to send a revision's missing clips again: succeeds (returns the updated record,
   * `requeues` + 1) only while the record is still the one seen (same etag and updatedAt) and
   * unfinished, so of two concurrent re-enqueuers exactly one sends.
   */
  claimRequeue(video: Pick<VideoRecord, 'videoId' | 'etag' | 'updatedAt'>): Promise<VideoRecord | undefined>;
  /** Unfinished videos (queued or processing) last updated before `before` (ISO time), oldest first. */
  unfinishedBefore(before: string, limit: number): Promise<VideoRecord[]>;
}

/** The log lines the use cases write (Powertools Logger satisfies it). */
export interface PipelineLog {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** Where thumbnail jobs go (adapters/queue.ts sqsThumbnailJobs): one per indexed revision. */
export interface ThumbnailJobs {
  send(job: ThumbnailJob): Promise<void>;
}

/** Writes a segment's thumbnail: the frame at `at` seconds of the readable video, under `key`. */
export interface ThumbnailWriter {
  write(bucket: string, key: string, video: ReadableObject, at: number): Promise<void>;
  /** The keys of every thumbnail under `prefix`. */
  list(bucket: string, prefix: string): Promise<string[]>;
  /** Deletes these thumbnails (a missing one is no error). */
  remove(bucket: string, keys: readonly string[]): Promise<void>;
}
