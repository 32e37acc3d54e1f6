/**
 * The intake cannot drop an upload: S3 events arrive through an SQS queue (as the deployed event
 * source mapping delivers them), a failed record comes back alone (batchItemFailures), and
 * duplicate events of one object, however concurrent, enqueue its clips once. Real emulators
 * (fauxqs + dynalite) through the real SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { startTestStack, queueDepth, type TestStack } from '../helpers/emulators.ts';
import { makeVideo, testSegmenterDeps } from './fixtures.ts';
import { VidxError } from '../../core/errors.ts';
import { makeIntakeHandler, makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { putVideoFile, type UploadedFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { DEFAULTS, VIDEO_PREFIX } from '../../core/names.ts';
import { INTAKE_QUEUE_DEFINITION } from '../../core/infra-definitions.ts';
import { ClipJobSchema } from '../../core/messages.ts';
import { segmentObject, type SegmentOutcome } from '../../core/pipeline/segment.ts';

let stack: TestStack;
let dir: string;
let intakeUrl: string;
let intakeArn: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-intake-'));
  stack = await startTestStack();
  const q = await stack.clients.sqs.send(new CreateQueueCommand({ QueueName: `${INTAKE_QUEUE_DEFINITION.name}-test`, Attributes: { VisibilityTimeout: '1' } }));
  intakeUrl = q.QueueUrl!;
  const a = await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: intakeUrl, AttributeNames: ['QueueArn'] }));
  intakeArn = a.Attributes!.QueueArn!;
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function upload(name: string, seconds: number): Promise<UploadedFile> {
  return putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, makeVideo(dir, name, seconds));
}

/** Takes every clip job off the clip queue; returns their clip indices per video. */
async function drainClipJobs(): Promise<Map<string, number[]>> {
  const byVideo = new Map<string, number[]>();
  for (;;) {
    const r = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.resources.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const messages = r.Messages ?? [];
    if (messages.length === 0) return byVideo;
    for (const m of messages) {
      const job = ClipJobSchema.parse(JSON.parse(m.Body ?? ''));
      byVideo.set(job.videoId, [...(byVideo.get(job.videoId) ?? []), job.clip.index].sort((x, y) => x - y));
    }
    await stack.clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: stack.resources.queueUrl, Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) }));
  }
}

/** What Lambda's SQS event source hands the function for messages it received. */
function lambdaSqsEvent(messages: readonly Message[]): unknown {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId,
      receiptHandle: m.ReceiptHandle,
      body: m.Body,
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: 'AIDAS3NOTIFICATIONS',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: intakeArn,
      awsRegion: DEFAULTS.region,
    })),
  };
}

async function receiveIntake(): Promise<Message[]> {
  const r = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: intakeUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
  return r.Messages ?? [];
}

describe('concurrent duplicate S3 events for one new object', () => {
  it('enqueue its clips exactly once (10 events at once)', async () => {
    const up = await upload('dup10.mp4', 5);
    const handle = makeSegmenterHandler(testSegmenterDeps(stack));
    const results = await Promise.all(Array.from({ length: 10 }, () => handle(s3CreatedEvent([up]))));
    const outcomes = results.map((r) => r.results[0]!.outcome).sort();
    expect(outcomes.filter((o) => o === 'queued')).toHaveLength(1);
    expect(outcomes.every((o) => ['queued', 'in-progress', 'duplicate'].includes(o))).toBe(true);

    const video = await stack.store.getVideo(up.videoId);
    expect(video).toMatchObject({ status: 'queued', enqueued: true, clipsTotal: 3 });
    expect((await drainClipJobs()).get(up.videoId)).toEqual([0, 1, 2]);
  });

  it('a revision recorded by an event that then died is taken over by exactly one redelivery once its lease is over', async () => {
    const up = await upload('crashed-sender.mp4', 5);
    // The recording event crashes between recording the revision and sending its jobs.
    const deps = testSegmenterDeps(stack);
    const silent = { ...deps, queue: { ...deps.queue, send: async () => { throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }); } } };
    await expect(segmentObject(silent, { ...up })).rejects.toThrow(/EPIPE/);
    expect(await stack.store.getVideo(up.videoId)).toMatchObject({ status: 'queued', enqueued: false });

    // Within the lease the sender may still be alive: a redelivery sends nothing and asks to come back.
    const early = await segmentObject(deps, { ...up });
    expect(early.outcome).toBe('in-progress');
    expect((await drainClipJobs()).get(up.videoId)).toBeUndefined();

    // After it, concurrent redeliveries: one takes the revision over, the others see it taken.
    const later = () => new Date(Date.now() + (DEFAULTS.segmenterTimeoutSeconds + 1) * 1000);
    const takers = await Promise.all(Array.from({ length: 5 }, () => segmentObject({ ...deps, now: later }, { ...up })));
    expect(takers.filter((t) => t.outcome === 'queued')).toHaveLength(1);
    expect((await drainClipJobs()).get(up.videoId)).toEqual([0, 1, 2]);
    expect(await stack.store.getVideo(up.videoId)).toMatchObject({ enqueued: true });
  });
});

describe('the intake queue handler (SQS-wrapped S3 events, partial batch failures)', () => {
  it('segments every event of a batch, acknowledges S3 test events, and returns only the failed messages', async () => {
    const good = await upload('intake-good.mp4', 3);
    const flaky = await upload('intake-flaky.mp4', 3);
    const send = (body: unknown) => stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: intakeUrl, MessageBody: typeof body === 'string' ? body : JSON.stringify(body) }));
    await send(s3CreatedEvent([good]));
    await send(s3CreatedEvent([flaky]));
    await send({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: new Date().toISOString(), Bucket: stack.resources.bucket, RequestId: 'R', HostId: 'H' });
    await send('{"not": "an S3 event"}');

    // The probe of one object fails as a reset connection does: transient, so its message comes back.
    const deps = testSegmenterDeps(stack);
    let resets = 0;
    const probe: typeof deps.probe = async (url) => {
      if (url.includes('intake-flaky') && resets++ === 0) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
      return deps.probe(url);
    };
    const handle = makeIntakeHandler({ ...deps, probe });
    const messages: Message[] = [];
    while (messages.length < 4) messages.push(...(await receiveIntake()));
    const bodies = new Map(messages.map((m) => [m.MessageId!, m.Body!]));

    const r = await handle(lambdaSqsEvent(messages));
    const failedBodies = r.batchItemFailures.map((f) => bodies.get(f.itemIdentifier)!);
    expect(failedBodies).toHaveLength(2);
    expect(failedBodies.some((b) => b.includes('intake-flaky'))).toBe(true);
    expect(failedBodies).toContain('{"not": "an S3 event"}');
    expect(await stack.store.getVideo(good.videoId)).toMatchObject({ status: 'queued', enqueued: true });
    // A transient failure records nothing: the video is not failed.
    expect(await stack.store.getVideo(flaky.videoId)).toBeUndefined();

    // The failed message comes back after its visibility timeout; this time it succeeds.
    const again: Message[] = [];
    for (let i = 0; i < 20 && !again.some((m) => m.Body?.includes('intake-flaky')); i++) again.push(...(await receiveIntake()));
    const retried = again.filter((m) => m.Body?.includes('intake-flaky'));
    expect(retried.length).toBeGreaterThan(0);
    expect(Number(retried[0]!.Attributes?.ApproximateReceiveCount)).toBeGreaterThan(1);
    expect((await handle(lambdaSqsEvent(retried))).batchItemFailures).toEqual([]);
    expect(await stack.store.getVideo(flaky.videoId)).toMatchObject({ status: 'queued', enqueued: true });
    const jobs = await drainClipJobs();
    expect(jobs.get(good.videoId)).toEqual([0, 1]);
    expect(jobs.get(flaky.videoId)).toEqual([0, 1]);
  });

  it('rejects a batch that is not an SQS event with BAD_EVENT', async () => {
    const handle = makeIntakeHandler(testSegmenterDeps(stack));
    await expect(handle({ Records: [{ s3: {} }] })).rejects.toMatchObject({ code: 'BAD_EVENT' });
  });
});

describe('a failed video', () => {
  it('is retried by uploading the same bytes again, unless they fail the same way', async () => {
    const up = await upload('retry-me.mp4', 3);
    const deps = testSegmenterDeps(stack);
    // First attempt: the probe says the file is not a video (a permanent, recorded failure).
    const first = await segmentObject({ ...deps, probe: async () => { throw new VidxError('NOT_A_VIDEO', 'not a video (first read)'); } }, { ...up });
    expect(first).toMatchObject({ outcome: 'failed', code: 'NOT_A_VIDEO' });
    // The same bytes, the same failure: a duplicate, nothing changes.
    const same = await segmentObject({ ...deps, probe: async () => { throw new VidxError('NOT_A_VIDEO', 'not a video (again)'); } }, { ...up });
    expect(same).toMatchObject({ outcome: 'duplicate', status: 'failed' });
    // The same bytes, read fine this time: the revision is retried and its clips are enqueued.
    const retried: SegmentOutcome = await segmentObject(deps, { ...up });
    expect(retried).toMatchObject({ outcome: 'queued', clips: 2 });
    expect(await stack.store.getVideo(up.videoId)).toMatchObject({ status: 'queued', enqueued: true, etag: up.etag });
    expect((await drainClipJobs()).get(up.videoId)).toEqual([0, 1]);
    expect((await queueDepth(stack.clients, stack.resources.queueUrl)).visible).toBe(0);
  });
});
