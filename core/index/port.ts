/**
 * The index as the domain speaks of it: videos and their revisions, the clips a revision is made
 * of, the timeline a revision ends with, and searches over timelines. Nothing here names a table,
 * a key, a page token or a size rule: adapters/dynamo-index/ lays this out in DynamoDB (and owns
 * pagination, batching, item sizes and error mapping); memory.ts keeps it in maps for unit tests.
 * Both pass the same contract (test/index/contract.ts).
 *
 * Every write is idempotent or guarded by "this etag is the video's current revision", because
 * every arrow upstream is at-least-once.
 */
import type { ClipRecord, ClipResult, Gap, ModelRef, SegmentRecord, VideoRecord, VideoStatus, VideoSummary } from '../records.ts';
import type { Segment } from '../result.ts';
import type { SegmentKind, TimedBox } from '../detection/schema.ts';

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
  /** Work units each clip owns (core/pipeline/progress.ts). */
  clipUnits?: number[] | undefined;
}

export type BeginResult = { created: boolean; video: VideoRecord };

/** One segment of a revision's timeline as assembly produces it. */
export interface TimelineSegment extends Segment {
  kind?: SegmentKind | undefined;
  /** Person segments: the track id (stable per video) and the person's box on each keyframe. */
  person?: number | undefined;
  boxes?: TimedBox[] | undefined;
  /** Time (s) of the segment's thumbnail frame, when one was written. */
  thumbAt?: number | undefined;
}

/** The revision a timeline belongs to. */
export interface TimelineOwner {
  videoId: string;
  key: string;
  etag: string;
}

/** One page of a listing; `next` is an opaque position to pass back as `after` (absent: the end). */
export interface Page<T> {
  items: T[];
  next?: string | undefined;
}

/** A segment found by a search: what the API shows, its revision and thumbnail time, and its rank. */
export interface SegmentHit {
  videoId: string;
  key: string;
  label: string;
  start: number;
  end: number;
  score: number;
  mean: number;
  windows: number;
  kind: SegmentKind;
  person?: number | undefined;
  /** Only where the read returns them (per-video search, recomputed timelines; never the label index). */
  boxes?: TimedBox[] | undefined;
  /** Ascending = better (core/index/order.ts rankOf): how streams of several labels are merged. */
  rank: string;
  /** Opaque position of the label's stream just after this hit (what a cursor carries). */
  position: string;
  etag?: string | undefined;
  thumbAt?: number | undefined;
}

export interface LabelSearch {
  label: string;
  /** Position of the stream after the last hit already returned (a hit's `position`); undefined = from the start. */
  after: string | undefined;
  /** Only hits with score >= minScore. */
  minScore: number;
  /** Only this video's segments. */
  videoId: string | undefined;
  /** At most this many hits. */
  want: number;
}

/** One label's hits, best first; `more` = the stream has hits beyond these. */
export interface LabelHits {
  items: SegmentHit[];
  more: boolean;
}

export interface LabelSearcher {
  /** A position that is not one this index issued for the label (and video) throws INVALID_CURSOR. */
  searchLabel(read: LabelSearch): Promise<LabelHits>;
}

/** What a clip read returns beside its index and window scores. */
export interface ClipRead {
  /** Also the per-keyframe detections (assembly); without it they are not read. */
  keyframes?: boolean;
}

export interface VideoIndex extends LabelSearcher {
  // --- videos --------------------------------------------------------------------------------
  /** The video's record (strongly consistent unless `consistent: false`). */
  getVideo(videoId: string, opts?: { consistent?: boolean }): Promise<VideoRecord | undefined>;
  /**
   * Records a revision (one etag of the object) unless that etag is already recorded: a second
   * call for the same etag changes nothing and returns the existing record (`created: false`).
   * A new etag resets the done set and the gaps; `enqueued` stays false until markEnqueued.
   * `replaceFailed`: a failed record of the same etag is begun again too (a retry of that revision).
   */
  beginRevision(f: RevisionFacts, options?: { replaceFailed?: boolean }): Promise<BeginResult>;
  /**
   * Takes over sending a recorded but not enqueued revision: succeeds (the record after it,
   * updatedAt now) only while it is still as seen (same etag and updatedAt, queued, not enqueued),
   * so of several concurrent takers exactly one sends.
   */
  claimEnqueue(video: Pick<VideoRecord, 'videoId' | 'etag' | 'updatedAt'>): Promise<VideoRecord | undefined>;
  /** Every clip job of the revision was sent (a retried event then sends nothing). */
  markEnqueued(videoId: string, etag: string): Promise<boolean>;
  /** queued -> processing, once, for the current revision. */
  markProcessing(videoId: string, etag: string): Promise<boolean>;
  /** The current revision failed for good (for a person: `reason`). */
  markFailed(videoId: string, etag: string, errorCode: string, reason: string): Promise<boolean>;
  /** The revision's done/failed event was delivered. */
  markNotified(videoId: string, etag: string, eventId: string): Promise<boolean>;
  /**
   * Takes the right to send a revision's missing clips again: succeeds (the record after it,
   * `requeues` + 1) only while the record is still the one seen (same etag and updatedAt) and
   * unfinished, so of two concurrent re-enqueuers exactly one sends.
   */
  claimRequeue(video: Pick<VideoRecord, 'videoId' | 'etag' | 'updatedAt'>): Promise<VideoRecord | undefined>;
  /** Videos, the most recent revision first (a revision's place does not move as it progresses). */
  listVideos(page: { limit: number; after?: string | undefined }): Promise<Page<VideoSummary>>;
  /** Every video (re-index --all, local recovery). */
  allVideos(): Promise<VideoRecord[]>;
  /** Unfinished videos (queued or processing) last updated before `before` (ISO time), oldest first. */
  unfinishedBefore(before: string, limit: number): Promise<VideoRecord[]>;

  // --- clips -----------------------------------------------------------------------------------
  /**
   * Stores one clip's result for its revision (a rewrite is identical). A result too large to
   * store at all throws VidxError CLIP_TOO_LARGE (permanent: the same clip would fail again).
   */
  recordClip(clip: ClipResult): Promise<void>;
  /** Whether the revision's clip result is stored. */
  hasClip(videoId: string, etag: string, index: number): Promise<boolean>;
  /**
   * Adds a clip to the revision's done set (adding twice is a no-op); the record after it, or
   * undefined when the revision is no longer current or has failed.
   */
  markClipDone(videoId: string, etag: string, index: number): Promise<VideoRecord | undefined>;
  /**
   * Raises clip `index`'s count of scored units to `done` (never lowers it) while `etag` is the
   * current, unfailed revision; false when nothing changed. Progress only: best effort.
   */
  recordClipProgress(videoId: string, etag: string, index: number, done: number): Promise<boolean>;
  /** The revision's clip results in clip order (window scores; keyframes only when asked). */
  clipsOf(videoId: string, etag: string, read?: ClipRead): Promise<ClipRecord[]>;

  // --- timelines -------------------------------------------------------------------------------
  /** Writes a revision's segments (deterministic identity: a rewrite overwrites in place). */
  writeTimeline(owner: TimelineOwner, segments: readonly TimelineSegment[]): Promise<void>;
  /**
   * Removes what the revision's timeline replaces: the video's segments not among `segments` and
   * the clip results of every other revision. Returns how many were removed.
   */
  pruneTimeline(owner: TimelineOwner, segments: readonly TimelineSegment[]): Promise<number>;
  /**
   * Marks the revision indexed with its segment count and the model that made it (current and not
   * failed only); `coverAt` = the time of the thumbnail that stands for the video in lists (absent =
   * none); `gaps` = the ranges of clips that failed for good (status indexed_with_gaps when there are any).
   */
  commitTimeline(videoId: string, etag: string, segments: number, made?: ModelRef, coverAt?: number, gaps?: readonly Gap[]): Promise<boolean>;
  /**
   * Sets the time of a stored segment's thumbnail, only while that segment exists and belongs to
   * revision `etag`; false when it does not (gone, or another revision's).
   */
  setThumbnailTime(videoId: string, etag: string, segment: Pick<TimelineSegment, 'start' | 'label' | 'person'>, at: number): Promise<boolean>;
  /** Sets the video's cover time (its picture in lists), only while `etag` is its current revision. */
  setCover(videoId: string, etag: string, coverAt: number): Promise<boolean>;
  /** Removes every segment and clip result of the video, all revisions (its object changed or failed). */
  forgetDerived(videoId: string): Promise<number>;
  /** The video's whole stored timeline, in timeline order (events, tools; the API pages instead). */
  timelineOf(videoId: string): Promise<SegmentRecord[]>;
  /** One page of the stored timeline, in timeline order; `after` = a previous page's `next`. */
  timelinePage(videoId: string, page: { limit: number; after?: string | undefined }): Promise<Page<SegmentRecord>>;
}
