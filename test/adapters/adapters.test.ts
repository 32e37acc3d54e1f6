/** The AWS adapters against the emulators; SQS partial batch failures (which fauxqs cannot produce) mocked. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendMessageBatchCommand} from '@aws-sdk/client-sqs';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startTestStack, queueDepth, type TestStack } from '../helpers/emulators.ts';
import { sendClipJobs } from '../../adapters/queue.ts';
import { headObject, presignGet, putObject } from '../../adapters/objects.ts';
import { isComplete } from '../../core/pipeline/progress.ts';
import { ClipJobSchema, type ClipJob } from '../../core/messages.ts';
import { isVidxError } from '../../core/errors.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const job = (index: number, count: number): ClipJob => ({
  v: 1, videoId: 'abc123', bucket: 'vidx-videos', key: 'videos/a.mp4', etag: 'e1', clip: { index, count, start: index * 60, end: index * 60 + 60 }, model: 'i3d_r50',
});

describe('queue', () => {
  it('sends 25 jobs in 3 SendMessageBatch calls, every body a valid ClipJob', async () => {
    const jobs = Array.from({ length: 25 }, (_, i) => job(i, 25));
    let calls = 0;
    const counting = { send: (cmd: SendMessageBatchCommand) => { calls++; return stack.clients.sqs.send(cmd); } } as unknown as SQSClient;
    expect(await sendClipJobs(counting, stack.resources.queueUrl, jobs)).toBe(25);
    expect(calls).toBe(3);
    expect((await queueDepth(stack.clients, stack.resources.queueUrl)).visible).toBe(25);
    const seen = new Set<number>();
    for (let i = 0; i < 5 && seen.size < 25; i++) {
      const r = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.resources.queueUrl, MaxNumberOfMessages: 10 }));
      for (const m of r.Messages ?? []) seen.add(ClipJobSchema.parse(JSON.parse(m.Body!)).clip.index);
    }
    expect(seen.size).toBe(25);
  });

  it('retries exactly the entries SQS reports as failed', async () => {
    const sent: string[][] = [];
    let round = 0;
    const flaky = {
      async send(cmd: SendMessageBatchCommand) {
        const ids = (cmd.input.Entries ?? []).map((e) => e.Id!);
        sent.push(ids);
        round++;
        const failed = round === 1 ? ids.slice(0, 3) : [];
        return { Successful: ids.filter((i) => !failed.includes(i)).map((Id) => ({ Id })), Failed: failed.map((Id) => ({ Id, Code: 'InternalError', SenderFault: false })) };
      },
    } as unknown as SQSClient;
    expect(await sendClipJobs(flaky, 'q', Array.from({ length: 10 }, (_, i) => job(i, 10)), { backoffMs: 1 })).toBe(10);
    expect(sent).toEqual([['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9'], ['c0', 'c1', 'c2']]);
  });

  it('gives up with ENQUEUE_FAILED when entries keep failing', async () => {
    const broken = {
      async send(cmd: SendMessageBatchCommand) {
        return { Successful: [], Failed: (cmd.input.Entries ?? []).map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })) };
      },
    } as unknown as SQSClient;
    await expect(sendClipJobs(broken, 'q', [job(0, 1)], { attempts: 3, backoffMs: 1 })).rejects.toSatisfy((e: unknown) => isVidxError(e, 'ENQUEUE_FAILED'));
  });

  it('refuses a job that breaks the message schema before sending anything', async () => {
    await expect(sendClipJobs(stack.clients.sqs, stack.resources.queueUrl, [{ ...job(0, 1), videoId: 'NOT VALID' }])).rejects.toThrow();
  });
});

describe('objects', () => {
  it('put, head and a presigned GET that reads the bytes without credentials', async () => {
    const { etag } = await putObject(stack.clients.s3, stack.resources.bucket, 'videos/x y.bin', new Uint8Array([1, 2, 3]));
    const head = await headObject(stack.clients.s3, stack.resources.bucket, 'videos/x y.bin');
    expect(head).toMatchObject({ size: 3, etag });
    const r = await fetch(await presignGet(stack.clients.s3, stack.resources.bucket, 'videos/x y.bin'));
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    await expect(headObject(stack.clients.s3, stack.resources.bucket, 'videos/none')).rejects.toSatisfy((e: unknown) => isVidxError(e, 'OBJECT_NOT_FOUND'));
  });
});

describe('index store', () => {
  const facts = (etag: string) => ({ videoId: 'v0000000000000000001', bucket: 'b', key: 'videos/a.mp4', etag, status: 'queued' as const, model: 'i3d_r50', trained: false, clipsTotal: 2, duration: 100 });

  it('records a revision once per etag; a new etag resets the done set', async () => {
    const s = stack.store;
    const first = await s.beginRevision(facts('e1'));
    expect(first.created).toBe(true);
    expect((await s.beginRevision(facts('e1'))).created).toBe(false);
    expect((await s.markClipDone('v0000000000000000001', 'e1', 0))?.doneClips).toEqual([0]);
    expect((await s.markClipDone('v0000000000000000001', 'e1', 0))?.doneClips).toEqual([0]); // idempotent
    const done = await s.markClipDone('v0000000000000000001', 'e1', 1);
    expect(done && isComplete(done)).toBe(true);
    const second = await s.beginRevision(facts('e2'));
    expect(second.created).toBe(true);
    expect(second.video.doneClips).toEqual([]);
    expect(second.video.createdAt).toBe(first.video.createdAt);
    // The old revision's late writes are refused.
    expect(await s.markClipDone('v0000000000000000001', 'e1', 0)).toBeUndefined();
    expect(await s.commitTimeline('v0000000000000000001', 'e1', 3)).toBe(false);
    expect(await s.markFailed('v0000000000000000001', 'e1', 'X', 'y')).toBe(false);
    // A failed revision takes no more clips and is not marked indexed.
    expect(await s.markFailed('v0000000000000000001', 'e2', 'VIDEO_CORRUPT', 'broken')).toBe(true);
    expect(await s.markClipDone('v0000000000000000001', 'e2', 0)).toBeUndefined();
    expect(await s.commitTimeline('v0000000000000000001', 'e2', 1)).toBe(false);
  });

  it('batch writes more than 25 items and reads them back by prefix', async () => {
    const owner = { videoId: 'aaaaaaaaaaaaaaaaaaaa', key: 'videos/many.mp4', etag: 'e' };
    const segments = Array.from({ length: 60 }, (_, i) => ({ label: 'x', start: i, end: i + 1, score: 0.5, mean: 0.5, windows: 1 }));
    await stack.store.writeTimeline(owner, segments);
    expect(await stack.store.timelineOf(owner.videoId)).toHaveLength(60);
    expect(await stack.store.forgetDerived(owner.videoId)).toBe(60);
    expect(await stack.store.timelineOf(owner.videoId)).toHaveLength(0);
  });
});
