/**
 * Person segments through the pipeline machinery on the real emulators: clip records carry each
 * clip's keyframes, assembly links tracks over the whole video once every clip is in, and the
 * index finds person segments by label with their person id, and keeps their boxes in the timeline.
 *
 * The scorer is a stand-in (the detection models themselves are tested in test/models and end to
 * end in the detection e2e test): here a person walks right across a 6 s video, smoking from 1 s
 * to 4 s, with 2 s clips, so the person's track spans three clips that finish in any order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStack, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo, quiet, testSegmenterDeps } from '../pipeline/fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { uploadAndNotify } from '../../cli/local/upload.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { planKeyframes, type KeyframePlan } from '../../core/detection/keyframes.ts';
import { defaultPersonTimelineOptions } from '../../core/detection/defaults.ts';
import type { KeyframeDetections } from '../../core/detection/schema.ts';
import type { PlannedWindow, VideoFactsForScoring } from '../../core/pipeline/clip-scorer.ts';

class WalkingSmoker extends DeterministicScorer {
  keyframesFor(duration: number): KeyframePlan[] {
    return planKeyframes(duration, 1);
  }

  override async score(source: string, video: VideoFactsForScoring, windows: readonly PlannedWindow[], signal: AbortSignal, keyframes: readonly KeyframePlan[] = []) {
    const out = await super.score(source, video, windows, signal);
    const detections: KeyframeDetections[] = keyframes.map((k) => {
      const x = 0.1 + 0.02 * k.index;
      const smoking = k.t > 1 && k.t < 4;
      return {
        index: k.index,
        t: k.t,
        people: [{ box: [x, 0.2, x + 0.2, 0.9], score: 0.95, actions: [{ label: 'smoke', index: 46, p: smoking ? 0.9 : 0.1 }] }],
      };
    });
    return { ...out, keyframes: detections };
  }
}

let stack: TestStack;
let dir: string;
let worker: ClipWorker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-people-'));
  stack = await startTestStack();
  worker = new ClipWorker({
    sqs: stack.clients.sqs,
    queueUrl: stack.resources.queueUrl,
    s3: stack.clients.s3,
    store: stack.store,
    scorer: new WalkingSmoker(2),
    timeline: { threshold: 0, gap: 1 },
    people: defaultPersonTimelineOptions(true, 1),
    log: quiet,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 3,
    heartbeatSeconds: 1,
  });
  worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('person segments in the index', () => {
  it('stores one track across clips as a person segment found by its label, with a box per keyframe', async () => {
    const video = makeVideo(dir, 'walk.mp4', 6);
    const [up] = await uploadAndNotify(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, [video], makeSegmenterHandler(testSegmenterDeps(stack)));
    const v = await waitFor('indexed', async () => {
      const r = await stack.store.getVideo(up!.videoId);
      return r?.status === 'indexed' ? r : undefined;
    });
    expect(v.clipsTotal).toBe(3);

    const hits = await stack.store.searchLabel({ label: 'smoke', after: undefined, minScore: 0, videoId: undefined, want: 100 });
    const people = hits.items.filter((i) => i.videoId === up!.videoId);
    expect(people).toHaveLength(1);
    expect(people[0]).toMatchObject({ kind: 'person', person: 1, label: 'smoke', start: 1, end: 4, score: 0.9, windows: 3 });
    // The label index carries no boxes (its items stay small); the timeline and a per-video search do.
    expect(people[0]!.boxes).toBeUndefined();
    const inVideo = await stack.store.searchLabel({ label: 'smoke', after: undefined, minScore: 0, videoId: up!.videoId, want: 100 });
    expect(inVideo.items[0]!.boxes!.map((b) => b.t)).toEqual([1.5, 2.5, 3.5]);
    const seg = (await stack.store.timelineOf(up!.videoId)).find((s) => s.kind === 'person')!;
    expect(seg.boxes!.map((b) => b.t)).toEqual([1.5, 2.5, 3.5]);
    expect(seg.boxes![0]!.box[0]).toBeCloseTo(0.12, 9);
    // The clip-level timeline is untouched beside it.
    expect((await stack.store.timelineOf(up!.videoId)).filter((s) => s.kind !== 'person').length).toBeGreaterThan(0);
  });
});
