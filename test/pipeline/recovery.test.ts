/**
 * Nothing stays unfinished: a video whose clip jobs were lost (a restarted local stack, a
 * dead-lettered, expired or purged message) is finished by a re-upload of the same object, or by
 * the sweeper; a video that cannot be finished fails with a reason instead of waiting forever.
 * Real emulators (fauxqs + dynalite) through the real SDK; the deterministic scorer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { startTestStack, queueDepth, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo, quiet, testSegmenterDeps } from './fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { putVideoFile, type UploadedFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { ClipJobSchema } from '../../core/messages.ts';
import { s3VideoObjects } from '../../adapters/objects.ts';
import { sqsClipQueue } from '../../adapters/queue.ts';
import { startLocalStack } from '../../cli/local/stack.ts';
import { FIXTURE_MANIFEST } from '../cdk/synth.ts';
import type { ClipScorer } from '../../core/pipeline/clip-scorer.ts';
import { staleAfterSeconds, sweepUnfinished, type SweepDeps, type SweepOptions } from '../../core/pipeline/sweep.ts';

let stack: TestStack;
let dir: string;
let segment: (event: unknown) => Promise<unknown>;
let sweepDeps: SweepDeps;

/** Takes every message off the queue, as a purge, an expiry or the DLQ would. Returns the clip indices. */
async function loseMessages(): Promise<number[]> {
  const lost: number[] = [];
  for (;;) {
    const r = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.resources.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const messages = r.Messages ?? [];
    if (messages.length === 0) return lost.sort((a, b) => a - b);
    for (const m of messages) lost.push(ClipJobSchema.parse(JSON.parse(m.Body ?? '')).clip.index);
    await stack.clients.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: stack.resources.queueUrl, Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) }),
    );
  }
}

async function upload(name: string, seconds: number): Promise<UploadedFile> {
  const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, makeVideo(dir, name, seconds));
  await segment(s3CreatedEvent([up]));
  return up;
}

/** Clip `index` finished, as a worker records it. */
async function finishClip(up: UploadedFile, index: number, start: number): Promise<void> {
  await stack.store.recordClip({ videoId: up.videoId, etag: up.etag, index, start, end: start + 2, windows: '[]', device: 'cpu' });
  await stack.store.markClipDone(up.videoId, up.etag, index);
}

const later = (hours: number) => () => new Date(Date.now() + hours * 3600_000);
const SWEEP: SweepOptions = { staleAfterSeconds: 3600, maxRequeues: 2, missingObject: 'fail' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-recovery-'));
  stack = await startTestStack();
  segment = makeSegmenterHandler(testSegmenterDeps(stack));
  sweepDeps = { objects: s3VideoObjects(stack.clients.s3), queue: sqsClipQueue(stack.clients.sqs, stack.resources.queueUrl), store: stack.store, log: quiet };
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a re-upload of an unfinished video', () => {
  it('sends again exactly the clips not yet done, and the video then finishes', async () => {
    const up = await upload('reupload.mp4', 5);
    expect((await stack.store.getVideo(up.videoId))?.clipsTotal).toBe(3);
    expect(await loseMessages()).toEqual([0, 1, 2]);
    await finishClip(up, 1, 2);

    const r = (await segment(s3CreatedEvent([up]))) as { results: { outcome: string; clips?: number }[] };
    expect(r.results[0]).toMatchObject({ outcome: 'requeued', clips: 2 });
    expect(await loseMessages()).toEqual([0, 2]);

    // Once more, this time with a worker: the video gets indexed.
    await segment(s3CreatedEvent([up]));
    const worker = new ClipWorker({
      sqs: stack.clients.sqs, s3: stack.clients.s3, queueUrl: stack.resources.queueUrl, store: stack.store, scorer: new DeterministicScorer(3),
      timeline: { threshold: 0, gap: 1 }, log: quiet, waitTimeSeconds: 1, visibilityTimeoutSeconds: 5, heartbeatSeconds: 1,
    });
    worker.start();
    try {
      await waitFor('indexed', async () => (await stack.store.getVideo(up.videoId))?.status === 'indexed', 30_000);
    } finally {
      await worker.stop();
    }
    // An indexed video's re-upload (same bytes) changes nothing.
    const again = (await segment(s3CreatedEvent([up]))) as { results: { outcome: string }[] };
    expect(again.results[0]!.outcome).toBe('duplicate');
    expect((await queueDepth(stack.clients, stack.resources.queueUrl)).visible).toBe(0);
  });
});

describe('the sweeper', () => {
  it('waits the stale time out, re-enqueues missing clips once per round, holds off during a backlog, and fails a video that never progresses', async () => {
    const up = await upload('sweep.mp4', 5);
    await loseMessages();
    await finishClip(up, 0, 0);

    // Recently updated: not stale yet.
    expect((await sweepUnfinished(sweepDeps, SWEEP)).requeued).toEqual([]);

    const first = await sweepUnfinished(sweepDeps, { ...SWEEP, now: later(2) });
    expect(first.requeued).toContainEqual({ videoId: up.videoId, clips: 2 });
    expect((await stack.store.getVideo(up.videoId))?.requeues).toBe(1);

    // Its jobs are waiting in the queue now: the next round sends nothing more.
    const held = await sweepUnfinished(sweepDeps, { ...SWEEP, now: later(2) });
    expect(held.requeued).toEqual([]);
    // The queue is checked before the index is read: a backlog costs no read at all.
    expect(held.backlog).toBe(2);
    expect(held.looked).toBe(0);
    expect(await loseMessages()).toEqual([1, 2]);

    expect((await sweepUnfinished(sweepDeps, { ...SWEEP, now: later(4) })).requeued).toContainEqual({ videoId: up.videoId, clips: 2 });
    await loseMessages();
    const last = await sweepUnfinished(sweepDeps, { ...SWEEP, now: later(6) });
    expect(last.failed).toContainEqual({ videoId: up.videoId, code: 'STALLED' });
    const v = await stack.store.getVideo(up.videoId);
    expect(v?.status).toBe('failed');
    expect(v?.errorCode).toBe('STALLED');
    expect(v?.reason).toMatch(/no progress after 2 re-enqueue\(s\): 2 of 3 clip\(s\) never finished/);
  });

  it('assembles a video whose clips are all done but which was never indexed (instead of failing it as stalled)', async () => {
    const up = await upload('all-done.mp4', 5);
    await loseMessages();
    // Every clip's result is stored and done, but the assembly never ran (a stop between the two).
    for (const [index, start] of [[0, 0], [1, 2], [2, 4]] as const) await finishClip(up, index, start);
    expect((await stack.store.getVideo(up.videoId))?.status).not.toBe('indexed');

    const round = await sweepUnfinished(sweepDeps, { ...SWEEP, now: later(2) });
    expect(round.requeued).toContainEqual({ videoId: up.videoId, clips: 0 });
    // What went out is the last clip's job: a worker finds its result stored and assembles.
    const worker = new ClipWorker({
      sqs: stack.clients.sqs, s3: stack.clients.s3, queueUrl: stack.resources.queueUrl, store: stack.store, scorer: new DeterministicScorer(3),
      timeline: { threshold: 0, gap: 1 }, log: quiet, waitTimeSeconds: 1, visibilityTimeoutSeconds: 5, heartbeatSeconds: 1,
    });
    worker.start();
    try {
      await waitFor('indexed', async () => (await stack.store.getVideo(up.videoId))?.status === 'indexed', 30_000);
    } finally {
      await worker.stop();
    }
    expect(worker.status().assembled).toBe(1);
    expect((await stack.store.getVideo(up.videoId))?.errorCode).toBeUndefined();
  });

  it('fails a video whose object was deleted (AWS), or leaves it for a re-upload (local)', async () => {
    const up = await upload('deleted.mp4', 3);
    await loseMessages();
    await stack.clients.s3.send(new DeleteObjectCommand({ Bucket: up.bucket, Key: up.key }));
    const local = await sweepUnfinished(sweepDeps, { ...SWEEP, missingObject: 'skip', now: later(2) });
    expect(local.lost).toContainEqual({ videoId: up.videoId, key: up.key });
    expect((await stack.store.getVideo(up.videoId))?.status).toBe('queued');
    const aws = await sweepUnfinished(sweepDeps, { ...SWEEP, now: later(2) });
    expect(aws.failed).toContainEqual({ videoId: up.videoId, code: 'OBJECT_NOT_FOUND' });
    expect((await stack.store.getVideo(up.videoId))?.reason).toMatch(/was deleted before the video was indexed/);
  });

  it('takes a message as lost after every receive it could still get, plus one visibility timeout', () => {
    expect(staleAfterSeconds(120, 5)).toBe(720);
  });
});

describe('vidx local', () => {
  it('sweeps on an interval: a video whose jobs were lost while the stack runs gets finished', async () => {
    const inner = new DeterministicScorer(3);
    // The fixture manifest plans for slowfast_r50: the stand-in scorer answers for that model.
    const scorer: ClipScorer = {
      device: 'cpu', architecture: 'slowfast_r50', trained: false, topK: 3,
      windowsFor: (d) => inner.windowsFor(d),
      score: (source, video, windows, signal) => inner.score(source, video, windows, signal),
      close: async () => undefined,
    };
    const local = await startLocalStack({
      port: 0, dataDir: join(dir, 'local'), manifestPath: FIXTURE_MANIFEST, scorer, logLevel: 'SILENT',
      worker: { waitTimeSeconds: 1, visibilityTimeoutSeconds: 5, heartbeatSeconds: 1 },
      sweep: { everySeconds: 1, staleAfterSeconds: 1 },
    });
    try {
      const up = await putVideoFile(local.clients.s3, local.resources.bucket, VIDEO_PREFIX, makeVideo(dir, 'local-lost.mp4', 3));
      // A revision recorded and marked enqueued whose jobs never arrived (lost).
      await local.store.beginRevision({
        videoId: up.videoId, bucket: up.bucket, key: up.key, etag: up.etag, size: up.size, status: 'queued',
        duration: 3, fps: 15, width: 96, height: 64, rotation: 0, codec: 'h264', model: 'slowfast_r50', trained: false,
        clipsTotal: 2, clipSeconds: 2, clipStarts: [0, 2],
      });
      await local.store.markEnqueued(up.videoId, up.etag);
      const v = await waitFor('indexed by way of the sweeper', async () => {
        const r = await local.store.getVideo(up.videoId);
        return r?.status === 'indexed' ? r : undefined;
      }, 30_000);
      expect(v.requeues).toBe(1);
    } finally {
      await local.stop();
    }
  });
});
