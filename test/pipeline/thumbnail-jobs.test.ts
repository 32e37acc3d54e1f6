/**
 * Thumbnails off the GPU's critical path: with a thumbnail queue, the assembling worker cuts no
 * frame; it sends one thumbnail job per revision, and the CPU consumer's use case cuts the JPEGs
 * and sets the segments' thumbAt. Real emulators, real ffmpeg, the real worker loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startTestStack, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo, quiet, testSegmenterDeps } from './fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { ThumbnailJobSchema } from '../../core/messages.ts';
import { sqsThumbnailJobs } from '../../adapters/queue.ts';
import { s3ThumbnailWriter } from '../../adapters/thumbnails.ts';
import { s3VideoObjects } from '../../adapters/objects.ts';
import { processThumbnailJob } from '../../core/pipeline/thumbnail-job.ts';
import { makeThumbnailHandler } from '../../lambdas/thumbnails/handler.ts';
import { thumbnailPrefix } from '../../core/records.ts';

let stack: TestStack;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-thumbjobs-'));
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('thumbnail jobs', () => {
  it('the worker sends one job per indexed revision and cuts no frame; the consumer cuts them and sets thumbAt', async () => {
    const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, makeVideo(dir, 'thumbs.mp4', 5));
    await makeSegmenterHandler(testSegmenterDeps(stack))(s3CreatedEvent([up]));
    const worker = new ClipWorker({
      sqs: stack.clients.sqs, s3: stack.clients.s3, queueUrl: stack.resources.queueUrl, store: stack.store, scorer: new DeterministicScorer(3),
      timeline: { threshold: 0, gap: 1 }, log: quiet, waitTimeSeconds: 1, visibilityTimeoutSeconds: 5, heartbeatSeconds: 1,
      thumbnailJobs: sqsThumbnailJobs(stack.clients.sqs, stack.resources.thumbnailQueueUrl),
    });
    worker.start();
    try {
      await waitFor('indexed', async () => (await stack.store.getVideo(up.videoId))?.status === 'indexed', 60_000);
    } finally {
      await worker.stop();
    }
    const writer = s3ThumbnailWriter(stack.clients.s3);
    expect(await writer.list(stack.resources.bucket, thumbnailPrefix(up.videoId))).toEqual([]);
    expect((await stack.store.timelineOf(up.videoId)).every((s) => s.thumbAt === undefined)).toBe(true);
    expect((await stack.store.getVideo(up.videoId))?.coverAt).toBeUndefined(); // no frame yet, so no cover

    const r = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.resources.thumbnailQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(r.Messages).toHaveLength(1);
    const job = ThumbnailJobSchema.parse(JSON.parse(r.Messages![0]!.Body!));
    expect(job).toEqual({ v: 1, videoId: up.videoId, bucket: up.bucket, key: up.key, etag: up.etag });

    const deps = { store: stack.store, objects: s3VideoObjects(stack.clients.s3), thumbnails: writer, log: quiet };
    const out = await processThumbnailJob(deps, job);
    expect(out.kind).toBe('done');
    const keys = await writer.list(stack.resources.bucket, thumbnailPrefix(up.videoId));
    expect(keys.length).toBeGreaterThan(0);
    const segments = await stack.store.timelineOf(up.videoId);
    expect(segments.every((s) => typeof s.thumbAt === 'number')).toBe(true);
    // The video's cover: the thumbnail time of its best-scoring segment, as assembly would have set it.
    const best = segments.reduce((a, b) => (b.score > a.score ? b : a));
    expect((await stack.store.getVideo(up.videoId))?.coverAt).toBe(best.thumbAt);
    expect(out).toEqual({ kind: 'done', frames: keys.length, segments: segments.length, coverAt: best.thumbAt });
    // A repeated job (at-least-once) converges to the same objects.
    expect(await processThumbnailJob(deps, job)).toEqual(out);
    expect(await writer.list(stack.resources.bucket, thumbnailPrefix(up.videoId))).toEqual(keys);
    // A job of a revision that is no longer current is dropped, and leaves the cover alone.
    expect(await processThumbnailJob({ ...deps, settleLooks: 0 }, { ...job, etag: 'another' })).toMatchObject({ kind: 'stale' });
    expect((await stack.store.getVideo(up.videoId))?.coverAt).toBe(best.thumbAt);

    // The deployed consumer: a batch of a job and a body that is not one; only the latter fails.
    const handle = makeThumbnailHandler(deps);
    const record = (messageId: string, body: string) => ({
      messageId, receiptHandle: 'r', body, md5OfBody: 'm', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:vidx-thumbnails', awsRegion: 'us-east-1', messageAttributes: {},
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1', SenderId: 'worker', ApproximateFirstReceiveTimestamp: '1' },
    });
    const res = await handle({ Records: [record('good', JSON.stringify(job)), record('bad', '{"v":2}')] });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
  });
});
