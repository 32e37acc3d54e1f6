/**
 * The one timeline builder (core/pipeline/assemble.ts buildTimeline), shared by assembly and
 * query-time segmentation: clip-level segments from window scores with the given segmentation,
 * person segments built from keyframes (assembly) or kept as stored (query time).
 *
 * The fixture: a 6 s video in 3 clips of 2 s, one window a second. The clip classifier sees
 * "juggling" strongly from 0 s to 3 s and weakly from 4 s to 6 s. The detector sees one person
 * walking right across the frame, smoking from 1 s to 4 s (keyframes at 0.5 s, 1.5 s, ...).
 */
import { describe, expect, it } from 'vitest';
import { buildTimeline, type ClipPayload, type PersonSource, type Segmentation } from '../../core/pipeline/assemble.ts';
import { resegment } from '../../core/query/resegment.ts';
import { isVidxError } from '../../core/errors.ts';
import { timelineOrderOf } from '../../core/index/order.ts';
import type { KeyframeDetections } from '../../core/detection/schema.ts';
import type { WindowScore } from '../../core/result.ts';

const owner = { videoId: 'v1', key: 'videos/walk.mp4', etag: 'e1' };
const DURATION = 6;
const JUGGLING = [0.9, 0.8, 0.9, 0.05, 0.3, 0.3];

const windowAt = (i: number): WindowScore => ({ index: i, start: i, end: i + 1, top: [{ label: 'juggling', index: 3, p: JUGGLING[i]! }] });
const keyframeAt = (i: number): KeyframeDetections => {
  const x = 0.1 + 0.05 * i;
  const smoking = i >= 1 && i <= 3;
  return { index: i, t: i + 0.5, people: [{ box: [x, 0.2, x + 0.2, 0.9], score: 0.95, actions: [{ label: 'smoke', index: 46, p: smoking ? 0.9 : 0.1 }] }] };
};

/** The fixture split into clips of `perClip` seconds. */
function clips(perClip: number): ClipPayload[] {
  const out: ClipPayload[] = [];
  for (let start = 0, index = 0; start < DURATION; start += perClip, index++) {
    const own = Array.from({ length: perClip }, (_, k) => start + k).filter((i) => i < DURATION);
    out.push({ index, windows: own.map(windowAt), keyframes: own.map(keyframeAt) });
  }
  return out;
}

const ASSEMBLY: Segmentation = { threshold: 0.2, gap: 1, minDuration: 0 };
const DETECT: PersonSource = { from: 'keyframes', options: { threshold: 0.5, gap: 1, interval: 1, duration: DURATION } };

const assembled = () => buildTimeline(owner, clips(2), 3, ASSEMBLY, DETECT);
const summary = (items: ReturnType<typeof assembled>['items']) => items.map((i) => ({ kind: i.kind ?? 'clip', label: i.label, start: i.start, end: i.end, score: i.score }));

describe('the timeline builder at assembly', () => {
  it('makes clip-level segments from the windows and person segments from the keyframes, in timeline order', () => {
    const { windows, items } = assembled();
    expect(windows.map((w) => w.index)).toEqual([0, 1, 2, 3, 4, 5]);
    // juggling: 0..3 (0.9, 0.8, 0.9), then 3 s below threshold bridged by gap 1 into 4..6 (0.3, 0.3).
    expect(summary(items)).toEqual([
      { kind: 'clip', label: 'juggling', start: 0, end: 6, score: 0.9 },
      { kind: 'person', label: 'smoke', start: 1, end: 4, score: 0.9 },
    ]);
    expect(items.map(timelineOrderOf)).toEqual([...items.map(timelineOrderOf)].sort());
    const person = items.find((i) => i.kind === 'person')!;
    expect(person).toMatchObject({ person: 1, windows: 3, videoId: 'v1', etag: 'e1', key: 'videos/walk.mp4' });
    expect(person.boxes!.map((b) => b.t)).toEqual([1.5, 2.5, 3.5]);
  });

  it('links a person over the whole video: the same keyframes in other clips give the same items', () => {
    const oneClip = buildTimeline(owner, clips(6), 1, ASSEMBLY, DETECT);
    const sixClips = buildTimeline(owner, clips(1).reverse(), 6, ASSEMBLY, DETECT);
    expect(oneClip.items).toEqual(assembled().items);
    expect(sixClips.items).toEqual(assembled().items);
  });

  it('makes no person segments where the deployment does not detect people', () => {
    const { items } = buildTimeline(owner, clips(2), 3, ASSEMBLY, { from: 'keyframes', options: undefined });
    expect(items.every((i) => i.kind !== 'person')).toBe(true);
    expect(items).toHaveLength(1);
  });

  it('refuses a revision with a clip missing (ASSEMBLY_INCOMPLETE)', () => {
    try {
      buildTimeline(owner, clips(2).slice(0, 2), 3, ASSEMBLY, DETECT);
      expect.unreachable();
    } catch (e) {
      expect(isVidxError(e, 'ASSEMBLY_INCOMPLETE')).toBe(true);
    }
  });
});

describe('the timeline builder at query time (person segments as stored)', () => {
  // What the index holds after assembly; a thumbnail time was added by the worker.
  const stored = assembled().items.map((i) => (i.kind === 'person' ? { ...i, thumbAt: 2.5 } : i));
  const windowsOnly = clips(2).map(({ index, windows }) => ({ index, windows }));

  it('with the assembly parameters reproduces the stored timeline exactly, person segments included', () => {
    const { items } = buildTimeline(owner, windowsOnly, 3, ASSEMBLY, { from: 'stored', items: stored });
    expect(items).toEqual(stored);
  });

  it('another threshold, gap and minimum duration re-segment the clip-level segments and keep the person segments', () => {
    const strict = buildTimeline(owner, windowsOnly, 3, { threshold: 0.5, gap: 0, minDuration: 0 }, { from: 'stored', items: stored });
    expect(summary(strict.items)).toEqual([
      { kind: 'clip', label: 'juggling', start: 0, end: 3, score: 0.9 },
      { kind: 'person', label: 'smoke', start: 1, end: 4, score: 0.9 },
    ]);
    // minDuration is a window-score parameter too: the 2 s tail goes, the 3 s person segment stays.
    const long = buildTimeline(owner, windowsOnly, 3, { threshold: 0.2, gap: 0, minDuration: 2.5 }, { from: 'stored', items: stored });
    expect(summary(long.items)).toEqual([
      { kind: 'clip', label: 'juggling', start: 0, end: 3, score: 0.9 },
      { kind: 'person', label: 'smoke', start: 1, end: 4, score: 0.9 },
    ]);
    expect(long.items.find((i) => i.kind === 'person')).toEqual(stored.find((i) => i.kind === 'person'));
  });

  it('takes only person segments of the same video and revision from what is stored', () => {
    const person = stored.find((i) => i.kind === 'person')!;
    const others = [
      { ...person, etag: 'e0' },
      { ...person, videoId: 'v2' },
      // A stored clip-level segment is rebuilt from the windows, never copied.
      { ...stored.find((i) => i.kind !== 'person')!, start: 9, label: 'stale' },
    ];
    const { items } = buildTimeline(owner, windowsOnly, 3, ASSEMBLY, { from: 'stored', items: others });
    expect(items.map((i) => i.label)).toEqual(['juggling']);
  });

  it('resegment reads stored clip payloads through the builder; a clip missing is TIMELINE_CHANGING', () => {
    const payloads = windowsOnly.map((c) => ({ index: c.index, windows: JSON.stringify(c.windows) }));
    expect(resegment(owner, payloads, 3, ASSEMBLY, stored)).toEqual(stored);
    try {
      resegment(owner, payloads.slice(1), 3, ASSEMBLY, stored);
      expect.unreachable();
    } catch (e) {
      expect(isVidxError(e, 'TIMELINE_CHANGING')).toBe(true);
    }
  });
});
