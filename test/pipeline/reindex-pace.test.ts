/**
 * `vidx reindex --all` is paced and `--retry-failed` retries what failed for a transient reason,
 * on the real emulators: the pacer waits while the clip queue holds its ceiling, keeps the jobs
 * it sends within the rate, and re-indexes every video once. Sleeping is injected (a clock that
 * only moves when the pacer sleeps), so the test measures the pacing and never waits for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startTestStack, type TestStack } from '../helpers/emulators.ts';
import { makeVideo, testSegmenterDeps } from './fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { putVideoFile, type UploadedFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { clipsSent, reindexPaced } from '../../core/pipeline/reindex-pace.ts';
import { failedTransiently, reindexVideo } from '../../core/pipeline/reindex.ts';

let stack: TestStack;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-pace-'));
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function upload(name: string, seconds: number): Promise<UploadedFile> {
  const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, makeVideo(dir, name, seconds));
  await makeSegmenterHandler(testSegmenterDeps(stack))(s3CreatedEvent([up]));
  return up;
}

async function drain(): Promise<number> {
  let n = 0;
  for (;;) {
    const r = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.resources.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const m = r.Messages ?? [];
    if (m.length === 0) return n;
    n += m.length;
    await stack.clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: stack.resources.queueUrl, Entries: m.map((x, i) => ({ Id: `d${i}`, ReceiptHandle: x.ReceiptHandle })) }));
  }
}

describe('reindex --all pacing', () => {
  it('holds off while the queue is at its ceiling and keeps the jobs sent within the rate', async () => {
    const ups = [];
    for (let i = 0; i < 4; i++) ups.push(await upload(`pace-${i}.mp4`, 5)); // 3 clips each
    expect(await drain()).toBe(12); // their jobs are lost: each video is unfinished, and a re-index re-enqueues 3 clips

    let clock = 0;
    const sleeps: number[] = [];
    let pauses = 0;
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      clock += ms;
      if (ms === 30_000) {
        pauses++;
        await drain(); // the workers catch up while the pacer waits
      }
    };
    const results = await reindexPaced(testSegmenterDeps(stack), ups.map((u) => u.videoId), { clipsPerSecond: 2, maxWaiting: 5, sleep, now: () => clock });
    expect(results.map((r) => [r.videoId, r.action, clipsSent(r)])).toEqual(ups.map((u) => [u.videoId, 'requeued', 3]));
    // 3 jobs wait after the first video, 6 after the second (>= 5): the third waits for the queue.
    expect(pauses).toBeGreaterThanOrEqual(1);
    // 12 jobs at 2 a second take at least 6 s of (injected) time.
    expect(clock).toBeGreaterThanOrEqual(6000);
    expect(sleeps.filter((ms) => ms !== 30_000).every((ms) => ms > 0 && ms <= 1500)).toBe(true);
    await drain();
  });
});

describe('reindex --retry-failed', () => {
  it('retries a video that failed for a transient reason, and leaves one that failed for the file', async () => {
    const flaky = await upload('failed-transient.mp4', 3);
    const bad = await upload('failed-file.mp4', 3);
    await drain();
    await stack.store.markFailed(flaky.videoId, flaky.etag, 'STALLED', 'no progress after 3 re-enqueue(s)');
    await stack.store.markFailed(bad.videoId, bad.etag, 'VIDEO_CORRUPT', 'moov atom not found');
    const transient = (await stack.store.allVideos()).filter(failedTransiently).map((v) => v.videoId);
    expect(transient).toContain(flaky.videoId);
    expect(transient).not.toContain(bad.videoId);

    const deps = testSegmenterDeps(stack);
    expect(await reindexVideo(deps, flaky.videoId)).toMatchObject({ action: 'current', status: 'failed' }); // not without the flag
    expect(await reindexVideo(deps, flaky.videoId, { retryFailed: true })).toMatchObject({ action: 'retried', result: { outcome: 'queued', clips: 2 } });
    expect(await stack.store.getVideo(flaky.videoId)).toMatchObject({ status: 'queued', enqueued: true });
    expect(await reindexVideo(deps, bad.videoId, { retryFailed: true })).toMatchObject({ action: 'current', status: 'failed' });
    expect(await drain()).toBe(2);
  });
});
