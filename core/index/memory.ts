/**
 * The index in memory, for unit tests: the same contract as the DynamoDB adapter
 * (test/index/contract.ts), kept in maps. Positions are the orders themselves (a rank, a timeline
 * order, a listing place), checked for shape like the adapter checks its own.
 */
import { VidxError } from '../errors.ts';
import { ClipRecordSchema, GapSchema, ModelRefSchema, SegmentRecordSchema, VideoRecordSchema, type ClipRecord, type ClipResult, type Gap, type ModelRef, type SegmentRecord, type VideoRecord, type VideoSummary, VideoSummarySchema } from '../records.ts';
import { RANK_PATTERN, compareTimeline, timelineOrderOf } from './order.ts';
import type { BeginResult, ClipRead, LabelHits, LabelSearch, Page, RevisionFacts, TimelineOwner, TimelineSegment, VideoIndex } from './port.ts';
import { hitOf } from './hits.ts';

function invalidPosition(what: string): VidxError {
  return new VidxError('INVALID_CURSOR', `cursor position is not a ${what} position`, { hint: 'pass back the nextCursor of the previous page unchanged, with the same query' });
}

const UNFINISHED = new Set(['queued', 'processing']);

export class InMemoryIndex implements VideoIndex {
  private readonly videos = new Map<string, VideoRecord & { listedAt: string }>();
  private readonly clips = new Map<string, ClipRecord>();
  /** videoId -> timeline order -> segment. */
  private readonly segments = new Map<string, Map<string, SegmentRecord>>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  private clipKey(videoId: string, etag: string, index: number): string {
    return `${videoId}\n${etag}\n${index}`;
  }

  private copy(v: VideoRecord & { listedAt?: string }): VideoRecord {
    const { listedAt: _l, ...rest } = v;
    return VideoRecordSchema.parse(structuredClone(rest));
  }

  /** Applies `change` to the current revision's record when `when` holds; the record after it. */
  private update(videoId: string, etag: string | undefined, when: (v: VideoRecord) => boolean, change: (v: VideoRecord & { listedAt: string }) => void): VideoRecord | undefined {
    const v = this.videos.get(videoId);
    if (!v || (etag !== undefined && v.etag !== etag) || !when(v)) return undefined;
    change(v);
    return this.copy(v);
  }

  async getVideo(videoId: string): Promise<VideoRecord | undefined> {
    const v = this.videos.get(videoId);
    return v && this.copy(v);
  }

  async beginRevision(f: RevisionFacts, options: { replaceFailed?: boolean } = {}): Promise<BeginResult> {
    const existing = this.videos.get(f.videoId);
    if (existing && existing.etag === f.etag && !(options.replaceFailed && existing.status === 'failed')) return { created: false, video: this.copy(existing) };
    const now = this.now().toISOString();
    const defined = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
    // What a new revision keeps of the old one: when the video was first seen and what made the timeline still stored.
    const kept = existing ? { createdAt: existing.createdAt, ...(existing.indexedWith ? { indexedWith: existing.indexedWith } : {}), ...(existing.segments !== undefined ? { segments: existing.segments } : {}) } : { createdAt: now };
    const record = VideoRecordSchema.parse({ ...kept, ...defined, enqueued: false, doneClips: [], clipWindows: {}, updatedAt: now });
    this.videos.set(f.videoId, { ...record, listedAt: now });
    return { created: true, video: this.copy(record) };
  }

  async claimEnqueue(seen: Pick<VideoRecord, 'videoId' | 'etag' | 'updatedAt'>): Promise<VideoRecord | undefined> {
    const now = this.now().toISOString();
    return this.update(seen.videoId, seen.etag, (v) => v.updatedAt === seen.updatedAt && v.status === 'queued' && !v.enqueued, (v) => void (v.updatedAt = now));
  }

  async markEnqueued(videoId: string, etag: string): Promise<boolean> {
    return this.update(videoId, etag, () => true, (v) => void (v.enqueued = true)) !== undefined;
  }

  async markProcessing(videoId: string, etag: string): Promise<boolean> {
    const now = this.now().toISOString();
    return this.update(videoId, etag, (v) => v.status === 'queued', (v) => Object.assign(v, { status: 'processing', updatedAt: now })) !== undefined;
  }

  async markFailed(videoId: string, etag: string, errorCode: string, reason: string): Promise<boolean> {
    const now = this.now().toISOString();
    return this.update(videoId, etag, () => true, (v) => Object.assign(v, { status: 'failed', errorCode, reason, updatedAt: now })) !== undefined;
  }

  async recordClipProgress(videoId: string, etag: string, index: number, done: number): Promise<boolean> {
    const now = this.now().toISOString();
    const raises = (v: VideoRecord) => v.status !== 'failed' && v.clipWindows !== undefined && (v.clipWindows[String(index)] ?? -1) < done;
    return this.update(videoId, etag, raises, (v) => Object.assign(v, { clipWindows: { ...v.clipWindows, [String(index)]: done }, workStartedAt: v.workStartedAt ?? now })) !== undefined;
  }

  async markNotified(videoId: string, etag: string, eventId: string): Promise<boolean> {
    return this.update(videoId, etag, () => true, (v) => void (v.notifiedEvent = eventId)) !== undefined;
  }

  async claimRequeue(seen: Pick<VideoRecord, 'videoId' | 'etag' | 'updatedAt'>): Promise<VideoRecord | undefined> {
    const now = this.now().toISOString();
    return this.update(seen.videoId, seen.etag, (v) => v.updatedAt === seen.updatedAt && UNFINISHED.has(v.status), (v) => Object.assign(v, { requeues: (v.requeues ?? 0) + 1, updatedAt: now }));
  }

  private listed(): (VideoRecord & { listedAt: string })[] {
    const place = (v: { listedAt: string; videoId: string }) => `${v.listedAt}#${v.videoId}`;
    return [...this.videos.values()].sort((a, b) => (place(a) < place(b) ? 1 : place(a) > place(b) ? -1 : 0));
  }

  async listVideos(page: { limit: number; after?: string | undefined }): Promise<Page<VideoSummary>> {
    const all = this.listed();
    let from = 0;
    if (page.after !== undefined) {
      const i = all.findIndex((v) => `${v.listedAt}#${v.videoId}` === page.after);
      if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[0-9a-f]{20}$/.test(page.after)) throw invalidPosition('video');
      from = i < 0 ? all.filter((v) => `${v.listedAt}#${v.videoId}` > page.after!).length : i + 1;
    }
    const items = all.slice(from, from + page.limit);
    const last = items[items.length - 1];
    return { items: items.map((v) => VideoSummarySchema.parse(this.copy(v))), ...(from + page.limit < all.length && last ? { next: `${last.listedAt}#${last.videoId}` } : {}) };
  }

  async allVideos(): Promise<VideoRecord[]> {
    return this.listed().map((v) => this.copy(v));
  }

  async unfinishedBefore(before: string, limit: number): Promise<VideoRecord[]> {
    return [...this.videos.values()]
      .filter((v) => UNFINISHED.has(v.status) && v.updatedAt < before)
      .sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : 0))
      .slice(0, limit)
      .map((v) => this.copy(v));
  }

  async recordClip(clip: ClipResult): Promise<void> {
    this.clips.set(this.clipKey(clip.videoId, clip.etag, clip.index), ClipRecordSchema.parse({ ...structuredClone(clip), createdAt: this.now().toISOString() }));
  }

  async hasClip(videoId: string, etag: string, index: number): Promise<boolean> {
    return this.clips.has(this.clipKey(videoId, etag, index));
  }

  async markClipDone(videoId: string, etag: string, index: number): Promise<VideoRecord | undefined> {
    const now = this.now().toISOString();
    return this.update(videoId, etag, (v) => v.status !== 'failed', (v) => {
      if (!v.doneClips.includes(index)) v.doneClips = [...v.doneClips, index].sort((a, b) => a - b);
      v.updatedAt = now;
    });
  }

  async clipsOf(videoId: string, etag: string, read: ClipRead = {}): Promise<ClipRecord[]> {
    return [...this.clips.values()]
      .filter((c) => c.videoId === videoId && c.etag === etag)
      .sort((a, b) => a.index - b.index)
      .map((c) => {
        const { keyframes, ...rest } = structuredClone(c);
        return read.keyframes && keyframes !== undefined ? { ...rest, keyframes } : rest;
      });
  }

  private dropClips(which: (c: ClipRecord) => boolean): number {
    let n = 0;
    for (const [k, c] of [...this.clips]) {
      if (!which(c)) continue;
      this.clips.delete(k);
      n++;
    }
    return n;
  }

  private timeline(videoId: string): Map<string, SegmentRecord> {
    let t = this.segments.get(videoId);
    if (!t) this.segments.set(videoId, (t = new Map()));
    return t;
  }

  async writeTimeline(owner: TimelineOwner, segments: readonly TimelineSegment[]): Promise<void> {
    const t = this.timeline(owner.videoId);
    for (const s of segments) t.set(timelineOrderOf(s), SegmentRecordSchema.parse({ ...structuredClone(s), videoId: owner.videoId, key: owner.key, etag: owner.etag }));
  }

  async pruneTimeline(owner: TimelineOwner, segments: readonly TimelineSegment[]): Promise<number> {
    const keep = new Set(segments.map(timelineOrderOf));
    const t = this.timeline(owner.videoId);
    let removed = 0;
    for (const k of [...t.keys()]) {
      if (keep.has(k)) continue;
      t.delete(k);
      removed++;
    }
    removed += this.dropClips((c) => c.videoId === owner.videoId && c.etag !== owner.etag);
    return removed;
  }

  async commitTimeline(videoId: string, etag: string, segments: number, made?: ModelRef, coverAt?: number, gaps: readonly Gap[] = []): Promise<boolean> {
    const now = this.now().toISOString();
    return (
      this.update(videoId, etag, (v) => v.status !== 'failed', (v) => {
        Object.assign(v, { status: gaps.length > 0 ? 'indexed_with_gaps' : 'indexed', segments, indexedAt: now, updatedAt: now }, made ? { indexedWith: ModelRefSchema.parse(made) } : {});
        delete v.reason;
        delete v.errorCode;
        if (coverAt !== undefined) v.coverAt = coverAt;
        else delete v.coverAt;
        if (gaps.length > 0) v.gaps = gaps.map((g) => GapSchema.parse(g));
        else delete v.gaps;
      }) !== undefined
    );
  }

  async setThumbnailTime(videoId: string, etag: string, segment: Pick<TimelineSegment, 'start' | 'label' | 'person'>, at: number): Promise<boolean> {
    const s = this.segments.get(videoId)?.get(timelineOrderOf(segment));
    if (!s || s.etag !== etag) return false;
    s.thumbAt = at;
    return true;
  }

  async setCover(videoId: string, etag: string, coverAt: number): Promise<boolean> {
    return this.update(videoId, etag, () => true, (v) => void (v.coverAt = coverAt)) !== undefined;
  }

  async forgetDerived(videoId: string): Promise<number> {
    const t = this.timeline(videoId);
    let removed = t.size;
    t.clear();
    removed += this.dropClips((c) => c.videoId === videoId);
    return removed;
  }

  private ordered(videoId: string): SegmentRecord[] {
    return [...this.timeline(videoId).values()].sort(compareTimeline).map((s) => structuredClone(s));
  }

  async timelineOf(videoId: string): Promise<SegmentRecord[]> {
    return this.ordered(videoId);
  }

  async timelinePage(videoId: string, page: { limit: number; after?: string | undefined }): Promise<Page<SegmentRecord>> {
    if (page.after !== undefined && !/^\d{10}#/.test(page.after)) throw invalidPosition('timeline');
    const all = this.ordered(videoId).filter((s) => page.after === undefined || timelineOrderOf(s) > page.after);
    const items = all.slice(0, page.limit);
    const last = items[items.length - 1];
    return { items, ...(all.length > page.limit && last ? { next: timelineOrderOf(last) } : {}) };
  }

  async searchLabel(read: LabelSearch): Promise<LabelHits> {
    if (read.after !== undefined && !RANK_PATTERN.test(read.after)) throw invalidPosition('segment');
    const hits = [...this.segments.entries()]
      .filter(([videoId]) => read.videoId === undefined || videoId === read.videoId)
      .flatMap(([, t]) => [...t.values()])
      .filter((s) => s.label === read.label && s.score >= read.minScore)
      .map((s) => hitOf(s, read.videoId !== undefined))
      .filter((h) => read.after === undefined || h.rank > read.after)
      .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
    return { items: hits.slice(0, read.want), more: hits.length > read.want };
  }
}
