/**
 * Faults on the real emulators: crashes at each step of a clip, poison messages, vanished
 * objects, new revisions, and the graceful stop. Crashes are simulated in-process (a hook
 * that never returns, then ClipWorker.crash(): no ack, no release, no more heartbeats), the
 * one thing the emulators cannot produce; everything else is real SQS/DynamoDB behaviour.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { startTestStack, queueDepth, peekMessages, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo, quiet, testSegmenterDeps } from './fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker, type WorkerOptions } from '../../gpu-worker/worker.ts';
import { putVideoFile, type UploadedFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { thumbnailPrefix, thumbnailRevisionPrefix } from '../../core/records.ts';
import { compareTimeline } from '../../core/index/order.ts';
import { s3ThumbnailWriter } from '../../adapters/thumbnails.ts';
import { VIDEO_PREFIX, DEFAULTS } from '../../core/names.ts';
import type { ClipJob } from '../../core/messages.ts';
import { VidxError } from '../../core/errors.ts';

const replaceErrors = (_k: string, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v);

const TIMELINE = { threshold: 0, gap: 1 };

let stack: TestStack;
let dir: string;
let segment: (event: unknown) => Promise<unknown>;
const workers: ClipWorker[] = [];

function startWorker(extra: Partial<WorkerOptions> = {}): ClipWorker {
  const w = new ClipWorker({
    sqs: stack.clients.sqs,
    queueUrl: stack.resources.queueUrl,
    s3: stack.clients.s3,
    store: stack.store,
    scorer: new DeterministicScorer(3),
    timeline: TIMELINE,
    log: quiet,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 2,
    heartbeatSeconds: 1,
    ...extra,
  });
  workers.push(w);
  w.start();
  return w;
}

async function upload(name: string, seconds: number, key?: string): Promise<UploadedFile> {
  const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, makeVideo(dir, name, seconds), key);
  await segment(s3CreatedEvent([up]));
  return up;
}

/** The whole index of one video: every item, sorted, timestamps dropped. */
async function snapshot(videoId: string) {
  const segs = await stack.store.timelineOf(videoId);
  const v = await stack.store.getVideo(videoId);
  const clips = v ? await stack.store.clipsOf(videoId, v.etag) : [];
  const counts = await stack.store.derivedCounts(videoId);
  return {
    status: v?.status,
    segments: segs.sort(compareTimeline),
    clips: clips.map((c) => ({ index: c.index, etag: c.etag, windows: c.windows })),
    clipItems: counts.clips,
  };
}

const indexed = (videoId: string) =>
  waitFor(`${videoId} indexed`, async () => {
    const v = await stack.store.getVideo(videoId);
    return v?.status === 'indexed' ? v : undefined;
  }, 30_000);

const drained = () =>
  waitFor('queue drained', async () => {
    const d = await queueDepth(stack.clients, stack.resources.queueUrl);
    return d.visible === 0 && d.inFlight === 0;
  }, 30_000);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-faults-'));
  stack = await startTestStack();
  segment = makeSegmenterHandler(testSegmenterDeps(stack));
});

afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('crashes converge to the same index', () => {
  it('a reference run without faults', async () => {
    startWorker();
    const up = await upload('ref.mp4', 5, 'videos/ref-a.mp4');
    await indexed(up.videoId);
    expect((await snapshot(up.videoId)).segments.length).toBeGreaterThan(0);
  });

  for (const point of ['afterClipWrite', 'beforeAssemblyCommit'] as const) {
    it(`a worker killed at ${point} -> redelivered -> the same final index`, async () => {
      // Reference: the same bytes under another key give the same windows only if the key is
      // the same (the scorer hashes the object path), so compare against a clean re-run instead.
      let hung = false;
      const stuck = new Promise<void>(() => undefined);
      const victim = startWorker({
        hooks: {
          [point]: (_job: ClipJob) => {
            if (hung) return undefined;
            hung = true;
            return stuck; // the process "dies" here
          },
        },
      });
      const up = await upload(`${point}.mp4`, 5);
      await waitFor('the victim to reach the crash point', async () => hung, 20_000);
      victim.crash();
      expect((await stack.store.getVideo(up.videoId))?.status).not.toBe('indexed');
      // A fresh worker picks up what the dead one held once its visibility expires.
      startWorker();
      await indexed(up.videoId);
      await drained();
      const after = await snapshot(up.videoId);

      // Ground truth: wipe the derived items and index the same revision again from scratch.
      await stack.store.forgetVideo(up.videoId);
      await segment(s3CreatedEvent([up]));
      await indexed(up.videoId);
      await drained();
      expect(await snapshot(up.videoId)).toEqual(after);
    });
  }
});

describe('bad messages and vanished objects', () => {
  it('a poison message (malformed JSON) ends in the DLQ and does not block the queue', async () => {
    startWorker();
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queueUrl, MessageBody: '{"v":1, this is not json' }));
    const up = await upload('after-poison.mp4', 2);
    await indexed(up.videoId);
    const bodies = await waitFor('poison in the DLQ', async () => {
      const b = await peekMessages(stack.clients, stack.resources.dlqUrl);
      return b.length > 0 ? b : undefined;
    }, 30_000);
    expect(bodies).toContain('{"v":1, this is not json');
    expect(DEFAULTS.maxReceiveCount).toBeGreaterThan(1);
  });

  it('a video deleted before its clips are scored ends failed with a reason; the message is deleted', async () => {
    const up = await upload('gone.mp4', 3);
    await stack.clients.s3.send(new DeleteObjectCommand({ Bucket: up.bucket, Key: up.key }));
    startWorker();
    const v = await waitFor('failed', async () => {
      const r = await stack.store.getVideo(up.videoId);
      return r?.status === 'failed' ? r : undefined;
    }, 20_000);
    expect(v.errorCode).toBe('VIDEO_NOT_FOUND');
    expect(v.reason).toMatch(/could not be decoded/);
    await drained();
  });
});

describe('revisions', () => {
  it('a new upload of the same key (new etag) replaces the old timeline when it is complete', async () => {
    startWorker();
    const key = 'videos/revised.mp4';
    const first = await upload('rev1.mp4', 5, key);
    await indexed(first.videoId);
    const old = await snapshot(first.videoId);
    const thumbnails = s3ThumbnailWriter(stack.clients.s3);
    const oldThumbs = await thumbnails.list(stack.resources.bucket, thumbnailPrefix(first.videoId));
    expect(oldThumbs.length).toBeGreaterThan(0);
    expect(oldThumbs.every((k) => k.startsWith(thumbnailRevisionPrefix(first.videoId, first.etag)))).toBe(true);
    const second = await upload('rev2.mp4', 2, key);
    expect(second.videoId).toBe(first.videoId);
    expect(second.etag).not.toBe(first.etag);
    const v = await waitFor('new revision indexed', async () => {
      const r = await stack.store.getVideo(first.videoId);
      return r?.status === 'indexed' && r.etag === second.etag ? r : undefined;
    }, 30_000);
    const now = await snapshot(first.videoId);
    expect(v.clipsTotal).toBe(1);
    expect(now.segments.every((s) => s.etag === second.etag)).toBe(true);
    expect(now.segments.every((s) => s.end <= 2.0001)).toBe(true);
    expect(now.segments).not.toEqual(old.segments);
    expect(now.clipItems).toBe(1); // the old revision's clip items are gone
    // ... and so are its thumbnails: only the new revision's JPEGs are left.
    const nowThumbs = await thumbnails.list(stack.resources.bucket, thumbnailPrefix(first.videoId));
    expect(nowThumbs.length).toBeGreaterThan(0);
    expect(nowThumbs.every((k) => k.startsWith(thumbnailRevisionPrefix(first.videoId, second.etag)))).toBe(true);
    // The old event again is a stale duplicate: nothing changes.
    await segment(s3CreatedEvent([first]));
    expect((await stack.store.getVideo(first.videoId))?.etag).toBe(second.etag);
  });
});

describe('graceful stop', () => {
  it('stop() finishes the batch in hand, then takes nothing more', async () => {
    const slow = startWorker({ scorer: new DeterministicScorer(3, 400), visibilityTimeoutSeconds: 5 });
    const up = await upload('drain.mp4', 3);
    await waitFor('work started', async () => slow.status().inFlight > 0, 20_000);
    const t0 = Date.now();
    await slow.stop();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(slow.status().running).toBe(false);
    // Whatever it did not finish is back on the queue for the next worker.
    startWorker();
    await indexed(up.videoId);
  });
});

describe('transient failures', () => {
  it('a clip that keeps failing transiently is retried, then lands in the DLQ after maxReceiveCount', async () => {
    const flaky = new DeterministicScorer(3);
    let attempts = 0;
    flaky.score = async () => {
      attempts++;
      throw new Error('GPU fell off the bus (simulated transient fault)');
    };
    const up = await upload('flaky.mp4', 1);
    startWorker({ scorer: flaky, retryDelaySeconds: () => 0 });
    const bodies = await waitFor('the clip job in the DLQ', async () => {
      const b = await peekMessages(stack.clients, stack.resources.dlqUrl);
      const mine = b.filter((x) => x.includes(up.videoId));
      return mine.length > 0 ? mine : undefined;
    }, 30_000);
    expect(bodies).toHaveLength(1);
    expect(attempts).toBe(DEFAULTS.maxReceiveCount);
    // Transient faults never fail the video: a redrive from the DLQ can still finish it.
    expect((await stack.store.getVideo(up.videoId))?.status).not.toBe('failed');
  });

  it('no log line carries a presigned URL\'s credential or signature (the retried decode quotes its URL)', async () => {
    const lines: string[] = [];
    const capture = (level: string) => (message: string, ...attrs: unknown[]) => void lines.push(JSON.stringify({ level, message, attrs }, replaceErrors));
    const log = { info: capture('info'), warn: capture('warn'), error: capture('error') };
    const slow = new DeterministicScorer(3);
    let seen = '';
    slow.score = async (source) => {
      seen = source;
      // What core/video/decode.ts raises when ffmpeg is killed for taking too long: transient, URL quoted.
      const e = new VidxError('FFMPEG_TIMEOUT', `decoding ${source}: timeout`);
      throw Object.assign(e, { input: source });
    };
    const up = await upload('slow-source.mp4', 1);
    const w = startWorker({ scorer: slow, log, retryDelaySeconds: () => 30 });
    await waitFor('the retry warning', async () => lines.some((l) => l.includes('clip will be retried')), 20_000);
    await w.stop();
    expect(seen).toContain('X-Amz-Signature=');
    const retried = lines.find((l) => l.includes('clip will be retried'))!;
    expect(retried).toContain(up.key.replace(/ /g, '%20'));
    for (const line of lines) {
      expect(line).not.toMatch(/X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token/);
      expect(line).not.toContain(seen.split('?')[1]!);
    }
  });
});

describe('a failed new revision', () => {
  it('removes the old timeline: the object is no longer that video', async () => {
    startWorker();
    const key = 'videos/replaced-by-junk.mp4';
    const good = await upload('good.mp4', 3, key);
    await indexed(good.videoId);
    expect((await stack.store.timelineOf(good.videoId)).length).toBeGreaterThan(0);
    const junkFile = join(dir, 'junk.mp4');
    (await import('node:fs')).writeFileSync(junkFile, 'not a video at all\n'.repeat(10));
    const junk = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, junkFile, key);
    await segment(s3CreatedEvent([junk]));
    const v = await stack.store.getVideo(good.videoId);
    expect(v?.status).toBe('failed');
    expect(v?.etag).toBe(junk.etag);
    expect(await stack.store.timelineOf(good.videoId)).toEqual([]);
    expect(await stack.store.derivedCounts(good.videoId)).toEqual({ segments: 0, clips: 0 });
  });
});
