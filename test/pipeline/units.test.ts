/** Pure parts of the pipeline: ids and orders, clip planning, assembly, S3 key coding, batching, health. */
import { describe, expect, it } from 'vitest';
import { videoIdFor, revisionId } from '../../core/records.ts';
import { rankOf, timelineOrderOf } from '../../core/index/order.ts';
import { planClips, ownedBy } from '../../core/pipeline/plan.ts';
import { collectWindows, segmentItems } from '../../core/pipeline/assemble.ts';
import { decodeS3Key } from '../../lambdas/segmenter/handler.ts';
import { encodeS3EventKey } from '../../cli/local/s3-event.ts';
import { CoalescingEngine } from '../../gpu-worker/model-scorer.ts';
import { healthVerdict } from '../../gpu-worker/health.ts';
import { planWindows } from '../../core/video/windows.ts';
import { isComplete } from '../../core/pipeline/progress.ts';
import type { WorkerStats } from '../../gpu-worker/worker.ts';
import { isVidxError } from '../../core/errors.ts';

describe('record keys', () => {
  it('videoId is stable for (bucket, key), differs otherwise, and fits the message schema', () => {
    const a = videoIdFor('b', 'videos/x.mp4');
    expect(a).toBe(videoIdFor('b', 'videos/x.mp4'));
    expect(a).not.toBe(videoIdFor('b', 'videos/y.mp4'));
    expect(a).not.toBe(videoIdFor('c', 'videos/x.mp4'));
    expect(a).toMatch(/^[0-9a-f]{20}$/);
  });
  it('timeline order is padded so that string order is numeric order, person segments after their clip-level label', () => {
    expect(timelineOrderOf({ start: 1.5, label: 'yoga' })).toBe('0000001500#yoga');
    expect(timelineOrderOf({ start: 12.3456, label: 'x' }) > timelineOrderOf({ start: 9.9, label: 'x' })).toBe(true);
    expect(timelineOrderOf({ start: 1, label: 'stand', person: 3 }) > timelineOrderOf({ start: 1, label: 'stand' })).toBe(true);
    expect(revisionId('"abc"')).toBe(revisionId('abc'));
  });
  it('rank: ascending = best score first, fixed width, ties by video, start and person', () => {
    const best = rankOf({ score: 0.91, videoId: 'v', start: 2 });
    const worse = rankOf({ score: 0.4, videoId: 'v', start: 0 });
    expect(best < worse).toBe(true);
    expect(best).toBe('0.090000#v#0000002000');
    expect(rankOf({ score: 1, videoId: 'v', start: 0 }).startsWith('0.000000#')).toBe(true);
    expect(rankOf({ score: 0, videoId: 'v', start: 0 }).startsWith('1.000000#')).toBe(true);
    expect(rankOf({ score: 0.5, videoId: 'v', start: 0, person: 2 })).toBe('0.500000#v#0000000000#000002');
  });
});

describe('clip planning', () => {
  const m = { frames: 8, samplingRate: 8, fps: 30 }; // D = 2.1333 s
  it('clips own windows by start time: every window exactly once, whatever the clip length', () => {
    for (const duration of [0.5, 2.2, 59.9, 61, 125.7, 600]) {
      const windows = planWindows(duration, m);
      for (const C of [1, 2.5, 60]) {
        const clips = planClips(windows.map((w) => w.start), C);
        const owned = clips.flatMap((c) => ownedBy(windows, c).map((w) => w.index));
        expect(owned).toEqual(windows.map((w) => w.index));
        expect(clips.every((c) => ownedBy(windows, c).length > 0)).toBe(true);
        expect(clips.every((c, i) => c.index === i && c.count === clips.length && c.start < c.end)).toBe(true);
      }
    }
  });
  it('a 125 s video in 60 s clips: 3 clips, the last owning the tail', () => {
    const clips = planClips(planWindows(125, m).map((w) => w.start), 60);
    expect(clips.map((c) => [c.start, c.end])).toEqual([[0, 60], [60, 120], [120, 180]]);
  });
});

describe('assembly', () => {
  const w = (index: number, label: string, p: number) => ({ index, start: index, end: index + 1, top: [{ label, index: 0, p }] });
  it('collects every clip in window order; a missing clip or a window in two clips is an error', () => {
    const all = collectWindows([{ index: 1, windows: [w(2, 'a', 0.5)] }, { index: 0, windows: [w(0, 'a', 0.5), w(1, 'a', 0.6)] }], 2);
    expect(all.map((x) => x.index)).toEqual([0, 1, 2]);
    expect(() => collectWindows([{ index: 0, windows: [] }], 2)).toThrow(/missing/);
    try {
      collectWindows([{ index: 0, windows: [w(0, 'a', 1)] }, { index: 1, windows: [w(0, 'a', 1)] }], 2);
      expect.unreachable();
    } catch (e) {
      expect(isVidxError(e, 'ASSEMBLY_INCOMPLETE')).toBe(true);
    }
  });
  it('timeline segments: one per label and start, the better one kept', () => {
    const items = segmentItems({ videoId: 'v1', key: 'videos/a.mp4', etag: 'e' }, [
      { label: 'yoga', start: 0, end: 4, score: 0.8, mean: 0.7, windows: 2 },
      { label: 'yoga', start: 10, end: 12, score: 0.5, mean: 0.5, windows: 1 },
      { label: 'yoga', start: 10, end: 11, score: 0.4, mean: 0.4, windows: 1 },
    ]);
    expect(items.map((i) => [timelineOrderOf(i), i.score])).toEqual([
      ['0000000000#yoga', 0.8],
      ['0000010000#yoga', 0.5],
    ]);
  });
  it('the done set is complete only when it holds every clip index', () => {
    expect(isComplete({ clipsTotal: 3, doneClips: [0, 2, 1] })).toBe(true);
    expect(isComplete({ clipsTotal: 3, doneClips: [0, 2] })).toBe(false);
    expect(isComplete({ clipsTotal: 0, doneClips: [] })).toBe(false);
  });
});

describe('S3 event keys', () => {
  it('round-trips spaces (+), plus signs, unicode and slashes', () => {
    for (const key of ['videos/a b.mp4', 'videos/a+b.mp4', 'videos/ünï cødé/ç 1.mov', 'videos/100%.mp4']) {
      expect(decodeS3Key(encodeS3EventKey(key))).toBe(key);
    }
    expect(encodeS3EventKey('videos/a b+c.mp4')).toBe('videos/a+b%2Bc.mp4');
  });

  it('a malformed encoding is a typed error, not a URIError', () => {
    expect(() => decodeS3Key('videos/%E0%A4%A.mp4')).toThrow(expect.objectContaining({ code: 'BAD_KEY_ENCODING' }));
  });
});

describe('CoalescingEngine', () => {
  it('batches concurrent runs from different clips into one model run and splits the logits back', async () => {
    const calls: number[] = [];
    const inner = {
      manifest: { labels: ['a', 'b'], output: { name: 'logits', classes: 2 } },
      async run(inputs: Record<string, Float32Array>, n: number) {
        calls.push(n);
        await new Promise((r) => setTimeout(r, 20));
        const x = inputs.video!;
        const per = x.length / n;
        const out = new Float32Array(n * 2);
        for (let i = 0; i < n; i++) out.set([x[i * per]!, -x[i * per]!], i * 2);
        return out;
      },
    };
    const e = new CoalescingEngine(inner, 8);
    const input = (vals: number[]) => ({ video: Float32Array.from(vals.flatMap((v) => [v, v, v])) });
    const [r1, r2, r3] = await Promise.all([e.run(input([1, 2]), 2), e.run(input([3]), 1), e.run(input([4, 5, 6]), 3)]);
    expect(calls).toEqual([6]);
    expect([...r1]).toEqual([1, -1, 2, -2]);
    expect([...r2]).toEqual([3, -3]);
    expect([...r3]).toEqual([4, -4, 5, -5, 6, -6]);
    // Over the cap: split across runs, requests never reordered or torn.
    calls.length = 0;
    await Promise.all([e.run(input([1, 2, 3, 4, 5]), 5), e.run(input([6, 7, 8, 9]), 4)]);
    expect(calls).toEqual([5, 4]);
  });
  it('a failed run rejects every request in it', async () => {
    const e = new CoalescingEngine({ manifest: { labels: ['a'], output: { name: 'o', classes: 1 } }, run: async () => Promise.reject(new Error('boom')) }, 8);
    const rs = await Promise.allSettled([e.run({ v: new Float32Array(1) }, 1), e.run({ v: new Float32Array(1) }, 1)]);
    expect(rs.every((r) => r.status === 'rejected')).toBe(true);
  });
});

describe('health verdict', () => {
  const base: WorkerStats = { running: true, draining: false, inFlight: 0, received: 0, done: 0, failed: 0, retried: 0, stale: 0, poison: 0, assembled: 0, lastPollAt: new Date(1000).toISOString(), startedAt: new Date(0).toISOString() };
  it('ok while polling; unhealthy when stopped, draining or stalled; busy is not stalled', () => {
    expect(healthVerdict(base, 2000, 60_000).ok).toBe(true);
    expect(healthVerdict({ ...base, running: false }, 2000, 60_000).ok).toBe(false);
    expect(healthVerdict({ ...base, draining: true }, 2000, 60_000).why).toBe('draining');
    expect(healthVerdict(base, 100_000, 60_000).ok).toBe(false);
    expect(healthVerdict({ ...base, inFlight: 3 }, 100_000, 60_000).ok).toBe(true);
  });
});
