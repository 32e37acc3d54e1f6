/**
 * Any S3 key survives the trip through the clip queue: a job's body is ASCII-only JSON that parses
 * back to the same strings (real SQS takes any key's characters; the local emulator refuses those
 * above U+FFFF). A job the queue refuses for good fails its video with a reason, at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startTestStack, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo, quiet, testSegmenterDeps } from './fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { sqsClipQueue } from '../../adapters/queue.ts';
import { ClipJobSchema, encodeClipJob, type ClipJob } from '../../core/messages.ts';
import { DEFAULTS, VIDEO_PREFIX } from '../../core/names.ts';

const KEYS = [
  'videos/🎬 clip 😀.mp4',
  'videos/日本語 ファイル.mp4',
  'videos/עברית ومرحبا.mp4',
  'videos/e\u0301 combining + plus %25 percent.mp4',
  'videos/tab\tand\u007fdel and \u2028 separator.mp4',
  'videos/\u{10FFFF} last \uFFFD replacement.mp4',
];

function job(key: string): ClipJob {
  return { v: 1, videoId: 'abc123', bucket: 'vidx-videos', key, etag: 'e1', clip: { index: 0, count: 1, start: 0, end: 60 }, model: 'i3d_r50' };
}

describe('clip job bodies', () => {
  it.each(KEYS)('%j: ASCII only, and parses back to the same job', (key) => {
    const body = encodeClipJob(job(key));
    expect(body).toMatch(/^[\x20-\x7e]*$/);
    expect(ClipJobSchema.parse(JSON.parse(body))).toEqual(job(key));
  });
});

describe('on the emulators', () => {
  let stack: TestStack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vidx-keys-'));
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a video whose name has emoji is queued and indexed', async () => {
    const file = join(dir, '🎬 clip 😀.mp4');
    copyFileSync(makeVideo(dir, 'plain.mp4', 3), file);
    const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, file);
    expect(up.key).toBe('videos/🎬 clip 😀.mp4');
    const segment = makeSegmenterHandler(testSegmenterDeps(stack));
    const r = (await segment(s3CreatedEvent([up]))) as { results: { outcome: string }[] };
    expect(r.results[0]!.outcome).toBe('queued');
    const worker = new ClipWorker({
      sqs: stack.clients.sqs, s3: stack.clients.s3, queueUrl: stack.resources.queueUrl, store: stack.store, scorer: new DeterministicScorer(3),
      timeline: { threshold: 0, gap: 1 }, log: quiet, waitTimeSeconds: 1, visibilityTimeoutSeconds: 5, heartbeatSeconds: 1,
    });
    worker.start();
    try {
      const v = await waitFor('indexed', async () => {
        const x = await stack.store.getVideo(up.videoId);
        return x?.status === 'indexed' ? x : undefined;
      }, 30_000);
      expect(v.key).toBe('videos/🎬 clip 😀.mp4');
      expect((await stack.store.timelineOf(up.videoId)).every((s) => s.key === 'videos/🎬 clip 😀.mp4')).toBe(true);
    } finally {
      await worker.stop();
    }
  });

  it('a job the queue refuses for good fails the video with the reason, without retrying', async () => {
    // A client that sends bodies as raw UTF-8 JSON (the emulator refuses emoji in them: a real
    // refusal by the real emulator), counting its SendMessageBatch calls.
    let calls = 0;
    const raw = new SQSClient({ region: DEFAULTS.region, endpoint: stack.emulators.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    raw.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Entries?: { MessageBody?: string }[] };
        if (args.input && input.Entries) {
          calls++;
          for (const e of input.Entries) e.MessageBody = JSON.stringify(JSON.parse(e.MessageBody ?? ''));
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const file = join(dir, 'refused 😀.mp4');
    copyFileSync(makeVideo(dir, 'plain2.mp4', 3), file);
    const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, file);
    const segment = makeSegmenterHandler(testSegmenterDeps(stack, { queue: sqsClipQueue(raw, stack.resources.queueUrl) }));
    try {
      const r = (await segment(s3CreatedEvent([up]))) as { results: { outcome: string; code?: string }[] };
      expect(r.results[0]).toMatchObject({ outcome: 'failed', code: 'ENQUEUE_REJECTED' });
      expect(calls).toBe(1);
      const v = await stack.store.getVideo(up.videoId);
      expect(v?.status).toBe('failed');
      expect(v?.errorCode).toBe('ENQUEUE_REJECTED');
      expect(v?.reason).toMatch(/refused a clip job: InvalidMessageContents/);
    } finally {
      raw.destroy();
    }
  });
});
