/**
 * What every implementation of the index port (core/index/port.ts) promises, as one suite of
 * tests. test/index/memory-index.test.ts runs it on the in-memory index, and
 * test/index/dynamo-index.test.ts on the DynamoDB adapter against dynalite.
 */
import { describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import type { RevisionFacts, SegmentHit, TimelineSegment, VideoIndex } from '../../core/index/port.ts';
import { compareTimeline } from '../../core/index/order.ts';

export interface ContractSubject {
  index: VideoIndex;
  /** Moves the index's clock (every implementation is built with a clock the suite drives). */
  clock: { now: Date };
}

const vid = (n: number) => n.toString(16).padStart(8, '0').repeat(3).slice(0, 20);
const facts = (videoId: string, etag: string, extra: Partial<RevisionFacts> = {}): RevisionFacts => ({
  videoId, bucket: 'b', key: `videos/${videoId}.mp4`, etag, status: 'queued', model: 'i3d_r50', trained: false, clipsTotal: 2, duration: 100,
  clipSeconds: 60, clipStarts: [0, 60], ...extra,
});
const seg = (label: string, start: number, score: number, extra: Partial<TimelineSegment> = {}): TimelineSegment => ({ label, start, end: start + 2, score, mean: score, windows: 2, ...extra });

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return isVidxError(e) ? e.code : String(e);
  }
}

async function allHits(index: VideoIndex, label: string, want: number, extra: { minScore?: number; videoId?: string } = {}): Promise<SegmentHit[]> {
  const out: SegmentHit[] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 500; guard++) {
    const r = await index.searchLabel({ label, after, minScore: extra.minScore ?? 0, videoId: extra.videoId, want });
    out.push(...r.items);
    if (!r.more) return out;
    expect(r.items).toHaveLength(want);
    after = r.items[r.items.length - 1]!.position;
  }
  throw new Error('search did not end');
}

export function indexContract(name: string, make: () => Promise<ContractSubject>): void {
  describe(`the index port: ${name}`, () => {
    const tick = (s: ContractSubject, seconds = 1) => (s.clock.now = new Date(s.clock.now.getTime() + seconds * 1000));

    it('records a revision once per etag; a new etag resets the done set and keeps when the video was first seen', async () => {
      const s = await make();
      const v = vid(1);
      const first = await s.index.beginRevision(facts(v, 'e1'));
      expect(first.created).toBe(true);
      expect(first.video).toMatchObject({ videoId: v, etag: 'e1', status: 'queued', doneClips: [], enqueued: false });
      expect((await s.index.beginRevision(facts(v, 'e1'))).created).toBe(false);
      expect((await s.index.markClipDone(v, 'e1', 1))?.doneClips).toEqual([1]);
      expect((await s.index.markClipDone(v, 'e1', 1))?.doneClips).toEqual([1]); // idempotent
      expect((await s.index.markClipDone(v, 'e1', 0))?.doneClips).toEqual([0, 1]);
      tick(s);
      const second = await s.index.beginRevision(facts(v, 'e2'));
      expect(second.created).toBe(true);
      expect(second.video.doneClips).toEqual([]);
      expect(second.video.createdAt).toBe(first.video.createdAt);
      // The old revision's late writes are refused.
      expect(await s.index.markClipDone(v, 'e1', 0)).toBeUndefined();
      expect(await s.index.commitTimeline(v, 'e1', 3)).toBe(false);
      expect(await s.index.markFailed(v, 'e1', 'X', 'y')).toBe(false);
      expect(await s.index.markEnqueued(v, 'e2')).toBe(true);
      expect((await s.index.getVideo(v))?.enqueued).toBe(true);
    });

    it('moves queued -> processing once; a failed revision takes no clips and is never indexed', async () => {
      const s = await make();
      const v = vid(2);
      await s.index.beginRevision(facts(v, 'e'));
      expect(await s.index.markProcessing(v, 'e')).toBe(true);
      expect(await s.index.markProcessing(v, 'e')).toBe(false);
      expect(await s.index.markFailed(v, 'e', 'VIDEO_CORRUPT', 'broken')).toBe(true);
      expect(await s.index.getVideo(v)).toMatchObject({ status: 'failed', errorCode: 'VIDEO_CORRUPT', reason: 'broken' });
      expect(await s.index.markClipDone(v, 'e', 0)).toBeUndefined();
      expect(await s.index.commitTimeline(v, 'e', 1)).toBe(false);
    });

    it('commits a timeline: indexed with its count and model, the reason of an earlier failure gone', async () => {
      const s = await make();
      const v = vid(3);
      await s.index.beginRevision(facts(v, 'e'));
      tick(s);
      expect(await s.index.commitTimeline(v, 'e', 4, { architecture: 'i3d_r50', manifestSha256: 'abc', trained: true })).toBe(true);
      const after = await s.index.getVideo(v);
      expect(after).toMatchObject({ status: 'indexed', segments: 4, indexedWith: { architecture: 'i3d_r50', manifestSha256: 'abc', trained: true } });
      expect(after?.indexedAt).toBe(s.clock.now.toISOString());
      expect(await s.index.markNotified(v, 'e', 'ev1')).toBe(true);
      expect((await s.index.getVideo(v))?.notifiedEvent).toBe('ev1');
    });

    it('of two concurrent re-enqueue claims on the same record, exactly one succeeds', async () => {
      const s = await make();
      const v = vid(4);
      const { video } = await s.index.beginRevision(facts(v, 'e'));
      tick(s);
      const claims = await Promise.all([s.index.claimRequeue(video), s.index.claimRequeue(video)]);
      expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
      expect((await s.index.getVideo(v))?.requeues).toBe(1);
      await s.index.commitTimeline(v, 'e', 0);
      expect(await s.index.claimRequeue((await s.index.getVideo(v))!)).toBeUndefined(); // finished: nothing to claim
    });

    it('begins a failed revision of the same etag again only when asked to replace it', async () => {
      const s = await make();
      const v = vid(11);
      await s.index.beginRevision(facts(v, 'e'));
      await s.index.markClipDone(v, 'e', 0);
      await s.index.markFailed(v, 'e', 'STALLED', 'no progress');
      expect((await s.index.beginRevision(facts(v, 'e'))).created).toBe(false);
      tick(s);
      const retried = await s.index.beginRevision(facts(v, 'e'), { replaceFailed: true });
      expect(retried.created).toBe(true);
      expect(retried.video).toMatchObject({ etag: 'e', status: 'queued', doneClips: [], enqueued: false, updatedAt: s.clock.now.toISOString() });
      expect(retried.video.errorCode).toBeUndefined();
      // A revision that has not failed is not begun again, asked or not.
      expect((await s.index.beginRevision(facts(v, 'e'), { replaceFailed: true })).created).toBe(false);
    });

    it('of concurrent enqueue takeovers of a recorded, not enqueued revision, exactly one succeeds', async () => {
      const s = await make();
      const v = vid(12);
      const { video } = await s.index.beginRevision(facts(v, 'e'));
      tick(s);
      const claims = await Promise.all([s.index.claimEnqueue(video), s.index.claimEnqueue(video), s.index.claimEnqueue(video)]);
      const won = claims.filter((c) => c !== undefined);
      expect(won).toHaveLength(1);
      expect(won[0]).toMatchObject({ etag: 'e', status: 'queued', updatedAt: s.clock.now.toISOString() });
      // The record as it is now can be claimed once more (the winner crashed too); once enqueued, never.
      tick(s);
      const again = await s.index.claimEnqueue(won[0]!);
      expect(again).toBeDefined();
      expect(await s.index.markEnqueued(v, 'e')).toBe(true);
      expect(await s.index.claimEnqueue(again!)).toBeUndefined();
      // Not queued any more: nothing to take over.
      const other = vid(13);
      const second = await s.index.beginRevision(facts(other, 'e'));
      await s.index.markProcessing(other, 'e');
      expect(await s.index.claimEnqueue(second.video)).toBeUndefined();
      expect(await s.index.claimEnqueue({ ...(await s.index.getVideo(other))!, etag: 'old' })).toBeUndefined();
    });

    it('commits a timeline with gaps as indexed_with_gaps; a later commit without gaps and a new revision clear them', async () => {
      const s = await make();
      const v = vid(14);
      await s.index.beginRevision(facts(v, 'e'));
      const gap = { start: 60, end: 100, clip: 1, errorCode: 'VIDEO_CORRUPT', reason: 'clip 2 of 2 could not be decoded' };
      await s.index.recordClip({ videoId: v, etag: 'e', index: 1, start: 60, end: 100, windows: '[]', gap: { errorCode: gap.errorCode, reason: gap.reason } });
      expect((await s.index.clipsOf(v, 'e'))[0]!.gap).toEqual({ errorCode: gap.errorCode, reason: gap.reason });
      expect(await s.index.commitTimeline(v, 'e', 3, undefined, undefined, [gap])).toBe(true);
      expect(await s.index.getVideo(v)).toMatchObject({ status: 'indexed_with_gaps', segments: 3, gaps: [gap] });
      expect(await s.index.unfinishedBefore(new Date(s.clock.now.getTime() + 60_000).toISOString(), 10)).toEqual([]);
      expect(await s.index.commitTimeline(v, 'e', 4)).toBe(true);
      const clean = await s.index.getVideo(v);
      expect(clean?.status).toBe('indexed');
      expect(clean?.gaps).toBeUndefined();
      await s.index.commitTimeline(v, 'e', 3, undefined, undefined, [gap]);
      tick(s);
      const next = await s.index.beginRevision(facts(v, 'e2'));
      expect(next.video.status).toBe('queued');
      expect(next.video.gaps).toBeUndefined();
      expect((await s.index.getVideo(v))?.gaps).toBeUndefined();
    });

    it('sets a stored segment\'s thumbnail time only while the segment is there and of that revision', async () => {
      const s = await make();
      const v = vid(15);
      const owner = { videoId: v, key: `videos/${v}.mp4`, etag: 'e' };
      await s.index.beginRevision(facts(v, 'e'));
      const person = seg('stand', 4, 0.7, { kind: 'person', person: 3 });
      await s.index.writeTimeline(owner, [seg('stand', 4, 0.8), person]);
      expect(await s.index.setThumbnailTime(v, 'e', person, 5.5)).toBe(true);
      expect(await s.index.setThumbnailTime(v, 'other', seg('stand', 4, 0.8), 4.5)).toBe(false); // another revision's
      expect(await s.index.setThumbnailTime(v, 'e', seg('walk', 9, 0.5), 9.5)).toBe(false); // no such segment
      const timeline = await s.index.timelineOf(v);
      expect(timeline.map((x) => [x.label, x.person, x.thumbAt])).toEqual([['stand', undefined, undefined], ['stand', 3, 5.5]]);
      const hits = await allHits(s.index, 'stand', 10);
      expect(hits.find((h) => h.person === 3)?.thumbAt).toBe(5.5);
      expect(hits.filter((h) => h.videoId === v)).toHaveLength(2); // nothing was created by the refused writes
    });

    it('sets the video\'s cover only for its current revision', async () => {
      const s = await make();
      const v = vid(16);
      await s.index.beginRevision(facts(v, 'e'));
      await s.index.commitTimeline(v, 'e', 2);
      expect((await s.index.getVideo(v))?.coverAt).toBeUndefined();
      expect(await s.index.setCover(v, 'e', 12.5)).toBe(true);
      expect((await s.index.getVideo(v))?.coverAt).toBe(12.5);
      expect((await s.index.listVideos({ limit: 10 })).items.find((x) => x.videoId === v)?.coverAt).toBe(12.5);
      expect(await s.index.setCover(v, 'old', 3)).toBe(false);
      expect(await s.index.setCover(vid(17), 'e', 3)).toBe(false); // no such video
      expect((await s.index.getVideo(v))?.coverAt).toBe(12.5);
    });

    it('stores clip results per revision, in clip order, keyframes only when asked', async () => {
      const s = await make();
      const v = vid(5);
      await s.index.beginRevision(facts(v, 'e'));
      const windows = JSON.stringify([{ index: 0, start: 0, end: 1, top: [{ label: 'a', index: 0, p: 0.5 }] }]);
      const keyframes = JSON.stringify([{ index: 0, t: 0.5, people: [] }]);
      await s.index.recordClip({ videoId: v, etag: 'e', index: 1, start: 60, end: 120, windows: '[]', device: 'cpu' });
      await s.index.recordClip({ videoId: v, etag: 'e', index: 0, start: 0, end: 60, windows, keyframes, device: 'cpu' });
      await s.index.recordClip({ videoId: v, etag: 'other', index: 0, start: 0, end: 60, windows: '[]' });
      expect(await s.index.hasClip(v, 'e', 0)).toBe(true);
      expect(await s.index.hasClip(v, 'e', 2)).toBe(false);
      const lean = await s.index.clipsOf(v, 'e');
      expect(lean.map((c) => c.index)).toEqual([0, 1]);
      expect(lean[0]).toMatchObject({ windows, start: 0, end: 60, device: 'cpu' });
      expect(lean[0]!.keyframes).toBeUndefined();
      expect((await s.index.clipsOf(v, 'e', { keyframes: true }))[0]!.keyframes).toBe(keyframes);
    });

    it('writes a timeline, reads it in timeline order, prunes what a new revision replaces and forgets it all', async () => {
      const s = await make();
      const v = vid(6);
      const owner = { videoId: v, key: `videos/${v}.mp4`, etag: 'e2' };
      await s.index.beginRevision(facts(v, 'e2'));
      await s.index.recordClip({ videoId: v, etag: 'e1', index: 0, start: 0, end: 60, windows: '[]' });
      await s.index.recordClip({ videoId: v, etag: 'e2', index: 0, start: 0, end: 60, windows: '[]' });
      const old = [seg('run', 30, 0.4), seg('walk', 0, 0.3)];
      await s.index.writeTimeline({ ...owner, etag: 'e1' }, old);
      const now = [seg('walk', 0, 0.9), seg('stand', 0, 0.8, { kind: 'person', person: 2, boxes: [{ t: 1, box: [0, 0, 0.5, 0.5] }] }), seg('stand', 0, 0.7), seg('jump', 12, 0.6, { thumbAt: 13 })];
      await s.index.writeTimeline(owner, now);
      expect(await s.index.pruneTimeline(owner, now)).toBe(2); // run@30 and the e1 clip
      const timeline = await s.index.timelineOf(v);
      expect(timeline.map((x) => [x.start, x.label, x.person])).toEqual([[0, 'stand', undefined], [0, 'stand', 2], [0, 'walk', undefined], [12, 'jump', undefined]]);
      expect(timeline.every((x) => x.etag === 'e2' && x.videoId === v && x.key === owner.key)).toBe(true);
      expect(timeline[1]).toMatchObject({ kind: 'person', boxes: [{ t: 1, box: [0, 0, 0.5, 0.5] }] });
      expect(timeline[3]!.thumbAt).toBe(13);
      expect(timeline.find((x) => x.label === 'walk')!.score).toBe(0.9); // rewritten in place
      expect(await s.index.clipsOf(v, 'e1')).toEqual([]);
      expect(await s.index.forgetDerived(v)).toBe(5);
      expect(await s.index.timelineOf(v)).toEqual([]);
      expect(await s.index.clipsOf(v, 'e2')).toEqual([]);
    });

    it('pages a timeline in order: every segment once, a position it did not issue refused', async () => {
      const s = await make();
      const v = vid(7);
      const owner = { videoId: v, key: 'k', etag: 'e' };
      const all = Array.from({ length: 23 }, (_, i) => seg(i % 2 ? 'a' : 'b', Math.floor(i / 3) * 4, 0.5, i % 3 === 2 ? { kind: 'person', person: i } : {}));
      await s.index.writeTimeline(owner, all);
      const seen: string[] = [];
      let after: string | undefined;
      for (let guard = 0; guard < 50; guard++) {
        const page = await s.index.timelinePage(v, { limit: 5, after });
        seen.push(...page.items.map((x) => `${x.start}/${x.label}/${x.person ?? ''}`));
        if (!page.next) break;
        expect(page.items).toHaveLength(5);
        after = page.next;
      }
      const expected = [...all].sort(compareTimeline).map((x) => `${x.start}/${x.label}/${x.person ?? ''}`);
      expect(seen).toEqual(expected);
      expect((await s.index.timelinePage(v, { limit: 23 })).next).toBeUndefined();
      expect(await code(s.index.timelinePage(v, { limit: 5, after: 'not a position' }))).toBe('INVALID_CURSOR');
    });

    it('lists videos by their revision, most recent first; progress never moves a video; pages follow `next`', async () => {
      const s = await make();
      const ids = [10, 11, 12, 13, 14].map(vid);
      for (const v of ids) {
        tick(s);
        await s.index.beginRevision(facts(v, 'e'));
      }
      tick(s);
      await s.index.markClipDone(ids[0]!, 'e', 0); // progress of the oldest
      await s.index.commitTimeline(ids[1]!, 'e', 0);
      const first = await s.index.listVideos({ limit: 3 });
      expect(first.items.map((x) => x.videoId)).toEqual([ids[4], ids[3], ids[2]]);
      const rest = await s.index.listVideos({ limit: 3, after: first.next });
      expect(rest.items.map((x) => x.videoId)).toEqual([ids[1], ids[0]]);
      expect(rest.next).toBeUndefined();
      expect(rest.items[1]).toMatchObject({ doneClips: [0], status: 'queued', key: `videos/${ids[0]}.mp4` });
      expect((await s.index.allVideos()).map((x) => x.videoId)).toEqual([...ids].reverse());
      expect((await s.index.allVideos())[4]?.clipStarts).toEqual([0, 60]);
      expect(await code(s.index.listVideos({ limit: 3, after: 'garbage' }))).toBe('INVALID_CURSOR');
      // A new revision is a new place: the video comes first again.
      tick(s);
      await s.index.beginRevision(facts(ids[0]!, 'e9'));
      expect((await s.index.listVideos({ limit: 1 })).items[0]?.videoId).toBe(ids[0]);
    });

    it('finds unfinished videos last updated before a time, oldest first; finished ones drop out', async () => {
      const s = await make();
      const [a, b, c, d] = [20, 21, 22, 23].map(vid);
      await s.index.beginRevision(facts(a!, 'e'));
      tick(s, 10);
      await s.index.beginRevision(facts(b!, 'e'));
      await s.index.markProcessing(b!, 'e');
      tick(s, 10);
      await s.index.beginRevision(facts(c!, 'e'));
      await s.index.commitTimeline(c!, 'e', 0);
      await s.index.beginRevision(facts(d!, 'e', { status: 'failed', reason: 'x', errorCode: 'NOT_A_VIDEO', clipsTotal: 0 }));
      tick(s, 10);
      const cutoff = s.clock.now.toISOString();
      expect((await s.index.unfinishedBefore(cutoff, 10)).map((v) => v.videoId)).toEqual([a, b]);
      expect((await s.index.unfinishedBefore(cutoff, 1)).map((v) => v.videoId)).toEqual([a]);
      await s.index.markClipDone(a!, 'e', 0); // progress: a is fresh again
      expect((await s.index.unfinishedBefore(cutoff, 10)).map((v) => v.videoId)).toEqual([b]);
      await s.index.markFailed(b!, 'e', 'STALLED', 'no progress');
      tick(s, 10);
      expect((await s.index.unfinishedBefore(s.clock.now.toISOString(), 10)).map((v) => v.videoId)).toEqual([a]);
    });

    it('searches a label best first across videos, pages without duplicates or gaps, narrows by score and by video', async () => {
      const s = await make();
      const videos = Array.from({ length: 12 }, (_, i) => vid(0x10000000 * (i + 1) + i));
      let n = 0;
      for (const v of videos) {
        const segments = Array.from({ length: 5 }, (_, j) => seg('dance', j * 10, Math.round(((n++ * 37) % 100) / 5) / 20));
        segments.push(seg('dance', 60, 0.55, { kind: 'person', person: 1, boxes: [{ t: 60, box: [0, 0, 1, 1] }] }), seg('dance', 60, 0.55, { kind: 'person', person: 2, boxes: [{ t: 60, box: [0, 0, 1, 1] }] }));
        segments.push(seg('sing', 0, 0.9));
        await s.index.writeTimeline({ videoId: v, key: `videos/${v}.mp4`, etag: 'e' }, segments);
      }
      const everything = await allHits(s.index, 'dance', 1000);
      expect(everything).toHaveLength(12 * 7);
      for (let i = 1; i < everything.length; i++) expect(everything[i - 1]!.rank < everything[i]!.rank).toBe(true);
      expect(everything.every((h) => h.label === 'dance' && h.boxes === undefined)).toBe(true);
      for (const want of [1, 7, 25]) expect(await allHits(s.index, 'dance', want)).toEqual(everything);
      const good = await allHits(s.index, 'dance', 4, { minScore: 0.5 });
      expect(good.map((h) => h.rank)).toEqual(everything.filter((h) => h.score >= 0.5).map((h) => h.rank));
      const one = await allHits(s.index, 'dance', 3, { videoId: videos[3] });
      expect(one.map((h) => h.rank)).toEqual(everything.filter((h) => h.videoId === videos[3]).map((h) => h.rank));
      expect(one.filter((h) => h.kind === 'person').every((h) => h.boxes?.length === 1)).toBe(true);
      expect((await s.index.searchLabel({ label: 'nobody', after: undefined, minScore: 0, videoId: undefined, want: 5 })).items).toEqual([]);
      expect(await code(s.index.searchLabel({ label: 'dance', after: 'VIDEO#x', minScore: 0, videoId: undefined, want: 5 }))).toBe('INVALID_CURSOR');
      expect(await code(s.index.searchLabel({ label: 'dance', after: 'x', minScore: 0, videoId: videos[0], want: 5 }))).toBe('INVALID_CURSOR');
    });
  });
}
