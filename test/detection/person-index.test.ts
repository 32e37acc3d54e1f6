/**
 * Person segments through the pipeline machinery on the real emulators: clip records carry each
 * clip's keyframes, assembly links tracks over the whole video once every clip is in, and the
 * index finds person segments by label with their person id (their boxes stay in the timeline and
 * per-video search); the query API serves them in the timeline and in search, also when the
 * timeline is re-segmented at query time.
 *
 * The scorer is a stand-in (the detection models themselves are tested in test/models and end to
 * end in the detection e2e test): here a person walks right across a 6 s video, smoking from 1 s
 * to 4 s, with 2 s clips, so the person's track spans three clips that finish in any order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { startTestStack, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, TEST_LABELS, makeVideo, quiet, testSegmenterDeps } from '../pipeline/fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { uploadAndNotify } from '../../cli/local/upload.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { planKeyframes, type KeyframePlan } from '../../core/detection/keyframes.ts';
import { defaultPersonTimelineOptions } from '../../core/detection/defaults.ts';
import type { KeyframeDetections } from '../../core/detection/schema.ts';
import type { PlannedWindow, VideoFactsForScoring } from '../../core/pipeline/clip-scorer.ts';
import { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { createQueryHandler } from '../../lambdas/query/app.ts';
import { serveHttpApi, type HttpApiHandler } from '../../cli/local/http-adapter.ts';
import { SearchResponseSchema, TimelineResponseSchema } from '../../core/query/responses.ts';

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
let http: { url: string; close(): Promise<void> } | undefined;
let videoId: string;

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
  await http?.close();
  await worker?.stop();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('person segments in the index', () => {
  it('stores one track across clips as a person segment found by its label, with a box per keyframe', async () => {
    const video = makeVideo(dir, 'walk.mp4', 6);
    const [up] = await uploadAndNotify(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, [video], makeSegmenterHandler(testSegmenterDeps(stack)));
    videoId = up!.videoId;
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

describe('person segments through the query API', () => {
  async function get(path: string): Promise<unknown> {
    if (!http) {
      const handler = createQueryHandler({
        index: new DynamoIndex(stack.clients.doc, stack.resources.tableName),
        vocabulary: [...TEST_LABELS, 'smoke'],
        cursorSecret: Buffer.from('person-index-test'),
        logger: new Logger({ serviceName: 'vidx-query-test', logLevel: 'SILENT' }),
      });
      http = await serveHttpApi(0, handler as HttpApiHandler);
    }
    const r = await fetch(`${http.url}${path}`);
    expect(r.status).toBe(200);
    return r.json();
  }
  const people = (segments: readonly { kind?: string | undefined }[]) => segments.filter((s) => s.kind === 'person');

  it('a re-segmented timeline keeps the person segments as stored, beside the re-segmented clip-level ones', async () => {
    expect(videoId).toBeDefined();
    const stored = TimelineResponseSchema.parse(await get(`/videos/${videoId}/timeline`));
    expect(people(stored.segments)).toHaveLength(1);
    for (const threshold of [0, 0.5, 1]) {
      const t = TimelineResponseSchema.parse(await get(`/videos/${videoId}/timeline?threshold=${threshold}&minDuration=0.5`));
      expect(t.segmentation).toMatchObject({ source: 'recomputed', threshold, minDuration: 0.5 });
      expect(people(t.segments)).toEqual(people(stored.segments));
      expect(people(t.segments)[0]).toMatchObject({ kind: 'person', person: 1, label: 'smoke', start: 1, end: 4 });
    }
    // The same parameters as assembly: the whole stored timeline, in its order.
    const same = TimelineResponseSchema.parse(await get(`/videos/${videoId}/timeline?threshold=${stored.segmentation.threshold}&gap=${stored.segmentation.gap}&minDuration=0`));
    expect(same.segments).toEqual(stored.segments);
  });

  it('search within the video with segmentation parameters finds the person segment', async () => {
    const r = SearchResponseSchema.parse(await get(`/search?action=smoke&videoId=${videoId}&threshold=0.9`));
    expect(r.query.segmentation).toMatchObject({ threshold: 0.9 });
    expect(r.items).toHaveLength(1);
    expect(r.items[0]).toMatchObject({ kind: 'person', person: 1, label: 'smoke', videoId, start: 1, end: 4 });
  });
});
