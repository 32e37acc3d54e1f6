/**
 * What the pipeline's use cases (segment.ts, process-clip.ts) need from the outside world, as
 * interfaces: the object store, the clip queue and the index. adapters/ implements them over the
 * AWS SDK (S3, SQS, DynamoDB); tests and `vidx local` use the same adapters against emulators. The
 * index's port is core/index/port.ts.
 */
import type { ClipJob, ThumbnailJob } from '../messages.ts';

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
  /**
   * Messages the queue still holds for workers, approximate: visible, in flight (received, not yet
   * deleted) and delayed (sent back with a delay after a transient failure).
   */
  waiting(): Promise<number>;
}

export type { BeginResult, RevisionFacts, VideoIndex } from '../index/port.ts';

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
