/**
 * The DynamoDB index adapter against the emulators (dynalite for the table, fauxqs for the S3
 * payloads): the port's contract, plus what only a real store has: DynamoDB's item size limit, the
 * payloads kept in S3, and the permanent failure of a result that cannot be stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../helpers/emulators.ts';
import { createIndex } from '../../adapters/dynamo-index/create.ts';
import { TABLE_DEFINITION, createTableInput, videoKey, clipSk } from '../../adapters/dynamo-index/layout.ts';
import { payloadKey } from '../../adapters/dynamo-index/payloads.ts';
import { INLINE_CLIP_LIMIT_BYTES } from '../../adapters/dynamo-index/index.ts';
import { ITEM_LIMIT_BYTES, itemSize } from '../../adapters/dynamo-index/sizes.ts';
import { processClip, type ClipDeps } from '../../core/pipeline/process-clip.ts';
import { planKeyframes, type KeyframePlan } from '../../core/detection/keyframes.ts';
import { defaultPersonTimelineOptions } from '../../core/detection/defaults.ts';
import type { KeyframeDetections } from '../../core/detection/schema.ts';
import type { ClipScorer } from '../../core/pipeline/clip-scorer.ts';
import type { ClipJob } from '../../core/messages.ts';
import { isVidxError } from '../../core/errors.ts';
import { quiet } from '../pipeline/fixtures.ts';
import { indexContract } from './contract.ts';

let stack: TestStack;
let tables = 0;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** A fresh table of the current layout for each contract test (the suite counts what it wrote). */
async function freshIndex(clock: { now: Date }, payloads: 'bucket' | 'none' = 'bucket') {
  const payloadBucket = payloads === 'bucket' ? stack.resources.bucket : undefined;
  const name = `contract-${++tables}`;
  await stack.clients.dynamo.send(new CreateTableCommand(createTableInput({ ...TABLE_DEFINITION, name })));
  return { name, index: createIndex(stack.clients, name, { payloadBucket, now: () => clock.now, labelShards: 4 }) };
}

indexContract('DynamoDB (dynalite)', async () => {
  const clock = { now: new Date('2026-12-04T10:00:00.000Z') };
  return { index: (await freshIndex(clock)).index, clock };
});

const ACTIONS = ['stand', 'sit', 'walk', 'talk to', 'watch', 'listen to', 'carry', 'hold'];

/** Detections of `people` people with 8 actions each on every keyframe: the largest payload a detection clip makes. */
class Crowd implements ClipScorer {
  readonly device = 'cpu';
  readonly architecture = 'slowfast_r50_detection';
  readonly trained = true;
  readonly topK = 5;
  constructor(
    private readonly people: number,
    private readonly interval: number,
  ) {}
  windowsFor() {
    return [];
  }
  keyframesFor(duration: number): KeyframePlan[] {
    return planKeyframes(duration, this.interval);
  }
  async score(_source: string, _video: unknown, _windows: unknown, _signal: AbortSignal, keyframes: readonly KeyframePlan[] = []) {
    const detections: KeyframeDetections[] = keyframes.map((k) => ({
      index: k.index,
      t: k.t,
      people: Array.from({ length: this.people }, (_, p) => {
        const x = (p % 10) * 0.089 + 0.0001 * k.index;
        return { box: [x, 0.1 + 0.4 * Math.floor(p / 10), x + 0.0987654321, 0.4876543219 + 0.4 * Math.floor(p / 10)], score: 0.9876543, actions: ACTIONS.map((label, i) => ({ label, index: i, p: i === 0 ? 0.91234567 : 0.0123456789 * (i + 1) })) };
      }),
    }));
    return { windows: [], keyframes: detections, decodeMs: 0, inferenceMs: 0 };
  }
  async close() {}
}

async function indexOneClip(index: ReturnType<typeof createIndex>, videoId: string, scorer: ClipScorer) {
  const etag = 'crowd-1';
  await index.beginRevision({ videoId, bucket: stack.resources.bucket, key: `videos/${videoId}.mp4`, etag, status: 'queued', duration: 60, fps: 25, width: 640, height: 360, model: scorer.architecture, trained: true, clipsTotal: 1, clipSeconds: 60, clipStarts: [0] });
  const deps: ClipDeps = {
    objects: { readable: async () => ({ url: 'http://127.0.0.1:1/unused', redact: (m: string) => m }) },
    store: index,
    scorer,
    timeline: { threshold: 0.5, gap: 1 },
    people: defaultPersonTimelineOptions(true, 0.5),
    log: quiet,
  };
  const job: ClipJob = { v: 1, videoId, bucket: stack.resources.bucket, key: `videos/${videoId}.mp4`, etag, clip: { index: 0, count: 1, start: 0, end: 60 }, model: scorer.architecture };
  return { etag, outcome: await processClip(deps, job, new AbortController().signal) };
}

describe('clip results beyond an item', () => {
  it('a 60 s clip of 20 people x 8 actions at 2 keyframes/s is indexed: its payload in S3, its item small', async () => {
    const { index, name } = await freshIndex({ now: new Date() });
    const videoId = 'c0ffee0000000000aaaa';
    const { etag, outcome } = await indexOneClip(index, videoId, new Crowd(20, 0.5));
    if (outcome.kind === 'retry') throw outcome.error;
    expect(outcome).toMatchObject({ kind: 'done', assembled: true });
    const video = await index.getVideo(videoId);
    expect(video?.status).toBe('indexed');
    expect(video!.segments).toBeGreaterThanOrEqual(20); // everyone stands throughout
    const people = (await index.timelineOf(videoId)).filter((s) => s.kind === 'person');
    expect(new Set(people.map((s) => s.person)).size).toBe(20);
    // The payload (well over the 400 KB item limit as JSON) is one S3 object; the item points at it.
    const clip = (await index.clipsOf(videoId, etag, { keyframes: true }))[0]!;
    const payloadBytes = Buffer.byteLength(clip.windows, 'utf8') + Buffer.byteLength(clip.keyframes!, 'utf8');
    expect(payloadBytes).toBeGreaterThan(ITEM_LIMIT_BYTES);
    expect(JSON.parse(clip.keyframes!)).toHaveLength(120);
    const item = (await stack.clients.doc.send(new GetCommand({ TableName: name, Key: { PK: videoKey(videoId).PK, SK: clipSk(etag, 0) } }))).Item!;
    expect(itemSize(item)).toBeLessThan(1024);
    const head = await stack.clients.s3.send(new HeadObjectCommand({ Bucket: stack.resources.bucket, Key: payloadKey(videoId, etag, 0) }));
    expect(head.ContentLength).toBeGreaterThan(ITEM_LIMIT_BYTES);
    // A failed revision takes its payloads with it.
    expect(await index.forgetDerived(videoId)).toBeGreaterThan(1);
    await expect(stack.clients.s3.send(new HeadObjectCommand({ Bucket: stack.resources.bucket, Key: payloadKey(videoId, etag, 0) }))).rejects.toThrow();
  });

  it('a small result stays inline in its item', async () => {
    const { index, name } = await freshIndex({ now: new Date() });
    const videoId = 'c0ffee0000000000bbbb';
    const { etag, outcome } = await indexOneClip(index, videoId, new Crowd(1, 1));
    expect(outcome.kind).toBe('done');
    const item = (await stack.clients.doc.send(new GetCommand({ TableName: name, Key: { PK: videoKey(videoId).PK, SK: clipSk(etag, 0) } }))).Item!;
    expect(item.payload).toBeUndefined();
    expect(itemSize(item)).toBeLessThan(INLINE_CLIP_LIMIT_BYTES);
  });

  it('a result that cannot be stored fails the video for good, named, with its sizes (never retried)', async () => {
    // A process without a payload bucket: the item would pass DynamoDB's limit.
    const { index } = await freshIndex({ now: new Date() }, 'none');
    const videoId = 'c0ffee0000000000cccc';
    const { outcome } = await indexOneClip(index, videoId, new Crowd(20, 0.5));
    if (outcome.kind === 'retry') throw outcome.error;
    expect(outcome).toMatchObject({ kind: 'failed', code: 'CLIP_TOO_LARGE' });
    const video = await index.getVideo(videoId);
    expect(video).toMatchObject({ status: 'failed', errorCode: 'CLIP_TOO_LARGE' });
    expect(video!.reason).toMatch(/clip 0 of video c0ffee0000000000cccc cannot be stored: its item is [\d.]+ KiB \(limit 400\.0 KiB\), windows [\d.]+ KiB, keyframes [\d.]+ KiB/);
    try {
      await index.recordClip({ videoId, etag: 'x', index: 0, start: 0, end: 60, windows: 'x'.repeat(500_000) });
      expect.unreachable();
    } catch (e) {
      expect(isVidxError(e, 'CLIP_TOO_LARGE')).toBe(true);
    }
  });
});
