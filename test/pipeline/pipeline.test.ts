/**
 * The pipeline on the real emulators (fauxqs + dynalite, in-process), through the real SDK:
 * upload -> S3 event -> segmenter -> SQS -> worker (sqs-consumer) -> DynamoDB index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { startTestStack, queueDepth, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo, quiet, testSegmenterDeps } from './fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import type { SegmenterDeps } from '../../core/pipeline/segment.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { uploadAndNotify, putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { mergeSegments } from '../../core/timeline/merge.ts';
import { ClipWindowsSchema, videoIdFor } from '../../core/records.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import { execFileSync } from 'node:child_process';
import { planClips } from '../../core/pipeline/plan.ts';
import { sendClipJobs } from '../../adapters/queue.ts';
import { CRICKET_GIF } from '../helpers/media.ts';

const TIMELINE = { threshold: 0, gap: 1 };

let stack: TestStack;
let dir: string;
let segment: (event: unknown) => Promise<unknown>;
let scorer: DeterministicScorer;
let worker: ClipWorker;

function segmenterDeps(): SegmenterDeps {
  return testSegmenterDeps(stack);
}

function startWorker(extra: Partial<ConstructorParameters<typeof ClipWorker>[0]> = {}): ClipWorker {
  const w = new ClipWorker({
    sqs: stack.clients.sqs,
    queueUrl: stack.resources.queueUrl,
    s3: stack.clients.s3,
    store: stack.store,
    scorer,
    timeline: TIMELINE,
    log: quiet,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 3,
    heartbeatSeconds: 1,
    ...extra,
  });
  w.start();
  return w;
}

async function expectedSegments(videoId: string): Promise<number> {
  const v = await stack.store.getVideo(videoId);
  const clips = await stack.store.clipsOf(videoId, v!.etag);
  const windows = clips.flatMap((c) => ClipWindowsSchema.parse(JSON.parse(c.windows)));
  return mergeSegments(windows, TIMELINE).length;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-pipe-'));
  stack = await startTestStack();
  segment = makeSegmenterHandler(segmenterDeps());
  scorer = new DeterministicScorer(3);
  worker = startWorker();
});

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('pipeline on the emulators', () => {
  it('indexes real footage and ffmpeg videos, and fails bad uploads with reasons while the others finish', async () => {
    const gif = join(dir, 'cricket shot é.mp4');
    execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-i', CRICKET_GIF, '-vf', 'scale=128:-2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', gif]);
    const a = makeVideo(dir, 'a.mp4', 5);
    const b = makeVideo(dir, 'b.mp4', 3, { pattern: 'rgbtestsrc' });
    const empty = join(dir, 'empty.mp4');
    writeFileSync(empty, '');
    const text = join(dir, 'notes.mp4');
    writeFileSync(text, 'this is not a video, just some text\n'.repeat(20));
    const corrupt = join(dir, 'corrupt.mp4');
    writeFileSync(corrupt, readFileSync(a).subarray(0, 700));

    const up = await uploadAndNotify(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, [gif, a, b, empty, text, corrupt], segment);
    const [gifUp, aUp, bUp, emptyUp, textUp, corruptUp] = up;
    expect(gifUp!.key).toBe('videos/cricket shot é.mp4');

    for (const u of [emptyUp!, textUp!, corruptUp!]) {
      const v = await stack.store.getVideo(u.videoId);
      expect(v?.status, u.key).toBe('failed');
      expect(v?.reason?.length).toBeGreaterThan(10);
      expect(v?.clipsTotal).toBe(0);
      // Readable, and no presigned URL (signature) in what the API shows.
      expect(v?.reason).not.toMatch(/X-Amz-|https?:\/\//);
    }
    expect((await stack.store.getVideo(textUp!.videoId))?.reason).toContain(`s3://${stack.resources.bucket}/videos/notes.mp4`);
    expect((await stack.store.getVideo(emptyUp!.videoId))?.errorCode).toBe('EMPTY_UPLOAD');

    for (const u of [gifUp!, aUp!, bUp!]) {
      const v = await waitFor(`${u.key} indexed`, async () => {
        const r = await stack.store.getVideo(u.videoId);
        return r?.status === 'indexed' ? r : undefined;
      });
      expect(v.clipsTotal).toBeGreaterThan(0);
      expect(v.doneClips).toHaveLength(v.clipsTotal);
      expect(v.segments).toBe(await expectedSegments(u.videoId));
      expect((await stack.store.timelineOf(u.videoId)).length).toBe(v.segments);
    }
    // a.mp4: 5 s, 1 s windows, 2 s clips -> 5 windows in 3 clips
    const av = await stack.store.getVideo(aUp!.videoId);
    expect(av?.clipsTotal).toBe(3);
    expect(av?.duration).toBeCloseTo(5, 0);

    // Search by label through the index: best first, every hit a real segment.
    const anySeg = (await stack.store.timelineOf(aUp!.videoId))[0]!;
    const hits = await stack.store.searchLabel({ label: anySeg.label, after: undefined, minScore: 0, videoId: undefined, want: 1000 });
    const scores = hits.items.map((i) => i.score);
    expect(scores.length).toBeGreaterThan(0);
    expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    expect(hits.items.some((i) => i.videoId === aUp!.videoId)).toBe(true);
    expect((await queueDepth(stack.clients, stack.resources.queueUrl)).visible).toBe(0);
  });

  it('ignores keys outside the prefix and decodes + and unicode keys', async () => {
    const f = makeVideo(dir, 'c.mp4', 2);
    const outside = await putVideoFile(stack.clients.s3, stack.resources.bucket, 'other/', f);
    const spaced = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, f, 'videos/my clip + ünïcode.mp4');
    const r = (await segment(s3CreatedEvent([outside, spaced]))) as { results: { outcome: string }[] };
    expect(r.results.map((x) => x.outcome)).toEqual(['ignored', 'queued']);
    expect(spaced.videoId).toBe(videoIdFor(stack.resources.bucket, 'videos/my clip + ünïcode.mp4'));
    expect((await stack.store.getVideo(spaced.videoId))?.key).toBe('videos/my clip + ünïcode.mp4');
    expect(await stack.store.getVideo(outside.videoId)).toBeUndefined();
    await waitFor('indexed', async () => (await stack.store.getVideo(spaced.videoId))?.status === 'indexed');
  });

  it('duplicate S3 events enqueue nothing; duplicate messages change nothing', async () => {
    const f = makeVideo(dir, 'dup.mp4', 3);
    const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, f);
    const event = s3CreatedEvent([up, up]);
    await segment(event);
    const v = await waitFor('indexed', async () => {
      const r = await stack.store.getVideo(up.videoId);
      return r?.status === 'indexed' ? r : undefined;
    });
    const before = await stack.store.timelineOf(up.videoId);
    const calls = scorer.calls;
    const r = (await segment(event)) as { results: { outcome: string }[] };
    expect(r.results.map((x) => x.outcome)).toEqual(['duplicate', 'duplicate']);
    expect((await queueDepth(stack.clients, stack.resources.queueUrl)).visible).toBe(0);
    // A redelivered clip message: the stored result is reused, nothing new is written.
    await stack.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.resources.queueUrl,
        MessageBody: JSON.stringify({ v: 1, videoId: up.videoId, bucket: up.bucket, key: up.key, etag: up.etag, clip: { index: 0, count: v.clipsTotal, start: 0, end: 2 }, model: 'i3d_r50' }),
      }),
    );
    await waitFor('drained', async () => {
      const d = await queueDepth(stack.clients, stack.resources.queueUrl);
      return d.visible === 0 && d.inFlight === 0;
    });
    expect(scorer.calls).toBe(calls);
    expect(await stack.store.timelineOf(up.videoId)).toEqual(before);
    expect((await stack.store.getVideo(up.videoId))?.indexedAt).toBe(v.indexedAt);
  });

  it('duplicate clip messages delivered together (same batch, concurrent) give the same index as one delivery', async () => {
    await worker.stop();
    const f = makeVideo(dir, 'dup-together.mp4', 5);
    const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, f);
    await segment(s3CreatedEvent([up]));
    const v = (await stack.store.getVideo(up.videoId))!;
    // Every clip job a second time, as an at-least-once queue may deliver them.
    const clips = planClips(segmenterDeps().windowStarts(v.duration!), 2);
    await sendClipJobs(stack.clients.sqs, stack.resources.queueUrl, clips.map((c) => ({ v: 1 as const, videoId: up.videoId, bucket: up.bucket, key: up.key, etag: up.etag, clip: c, model: 'i3d_r50' })));
    expect((await queueDepth(stack.clients, stack.resources.queueUrl)).visible).toBe(2 * v.clipsTotal);
    worker = startWorker();
    const done = await waitFor('indexed', async () => {
      const r = await stack.store.getVideo(up.videoId);
      return r?.status === 'indexed' ? r : undefined;
    });
    await waitFor('drained', async () => {
      const d = await queueDepth(stack.clients, stack.resources.queueUrl);
      return d.visible === 0 && d.inFlight === 0;
    });
    expect(done.segments).toBe(await expectedSegments(up.videoId));
    expect((await stack.store.timelineOf(up.videoId)).length).toBe(done.segments);
    expect((await stack.store.clipsOf(up.videoId, up.etag)).map((c) => c.index)).toEqual(clips.map((c) => c.index));
  });
});
