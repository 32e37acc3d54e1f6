/**
 * Failure classes in the worker, on the real emulators (fauxqs + dynalite) with the real
 * sqs-consumer loop: a transient failure is retried and never fails the video nor deletes its
 * results; a permanent failure of one clip leaves a gap (status indexed_with_gaps, the range
 * listed by the API); a video whose every clip fails is failed, and uploading its bytes again
 * retries it. The scorer is the deterministic one, made to fail on chosen clips as a reset HTTP
 * read or a damaged stretch of the file would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStack, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo, quiet, testSegmenterDeps } from './fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { putVideoFile, type UploadedFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { VidxError } from '../../core/errors.ts';
import { QueryApi } from '../../core/query/api.ts';
import type { PlannedWindow } from '../../core/pipeline/clip-scorer.ts';

/** Clips are 2 s (testSegmenterDeps): clip i owns the windows starting in [2i, 2i + 2). */
const clipOf = (windows: readonly PlannedWindow[]) => Math.floor((windows[0]?.start ?? 0) / 2);

/** The deterministic scorer, failing on chosen clips with a chosen error (each clip a number of times, or always). */
class FailingScorer extends DeterministicScorer {
  readonly failures = new Map<number, number>();
  constructor(private readonly fail: (clip: number, attempt: number) => Error | undefined) {
    super(3);
  }
  override async score(source: string, video: unknown, windows: readonly PlannedWindow[], signal: AbortSignal) {
    const clip = clipOf(windows);
    const attempt = (this.failures.get(clip) ?? 0) + 1;
    const e = this.fail(clip, attempt);
    if (e) {
      this.failures.set(clip, attempt);
      throw e;
    }
    return super.score(source, video, windows, signal);
  }
}

const reset = () => new VidxError('VIDEO_DECODE_FAILED', 'decoding the input failed: tcp: Connection reset by peer; Error during demuxing: I/O error');
const damaged = () => new VidxError('VIDEO_CORRUPT', 'decoding the input failed: h264: error while decoding MB 3 4, bytestream -5; Invalid data found when processing input');

let stack: TestStack;
let dir: string;
let api: QueryApi;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-failclass-'));
  stack = await startTestStack();
  api = new QueryApi({ index: stack.store, vocabulary: Array.from({ length: 12 }, (_, i) => `action ${i}`), cursorSecret: Buffer.from('x') });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function upload(file: string): Promise<UploadedFile> {
  const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, file);
  await makeSegmenterHandler(testSegmenterDeps(stack))(s3CreatedEvent([up]));
  return up;
}

async function withWorker<T>(scorer: DeterministicScorer, fn: () => Promise<T>): Promise<T> {
  const worker = new ClipWorker({
    sqs: stack.clients.sqs, s3: stack.clients.s3, queueUrl: stack.resources.queueUrl, store: stack.store, scorer,
    timeline: { threshold: 0, gap: 1 }, log: quiet, waitTimeSeconds: 1, visibilityTimeoutSeconds: 5, heartbeatSeconds: 1,
    retryDelaySeconds: () => 0,
  });
  worker.start();
  try {
    return await fn();
  } finally {
    await worker.stop();
  }
}

const finished = async (videoId: string) => {
  const v = await stack.store.getVideo(videoId);
  return v && ['indexed', 'indexed_with_gaps', 'failed'].includes(v.status) ? v : undefined;
};

describe('a transient worker failure', () => {
  it('is retried: the video is not failed, no result is deleted, and it ends indexed with every clip', async () => {
    const file = makeVideo(dir, 'transient.mp4', 6);
    // A first revision, indexed: its timeline must survive the next revision's transient failures.
    const first = await upload(file);
    await withWorker(new DeterministicScorer(3), () => waitFor('first indexed', () => finished(first.videoId), 60_000));
    const oldSegments = await stack.store.timelineOf(first.videoId);
    expect(oldSegments.length).toBeGreaterThan(0);

    // The same key again with other bytes: a new revision, whose clip 1 is reset twice while read.
    const second = await upload(makeVideo(dir, 'transient.mp4', 6, { pattern: 'testsrc' }));
    expect(second.etag).not.toBe(first.etag);
    const scorer = new FailingScorer((clip, attempt) => (clip === 1 && attempt <= 2 ? reset() : undefined));
    const during: { status: string; segments: number }[] = [];
    const v = await withWorker(scorer, () =>
      waitFor('second finished', async () => {
        const now = await stack.store.getVideo(second.videoId);
        if (now && scorer.failures.get(1)) during.push({ status: now.status, segments: (await stack.store.timelineOf(second.videoId)).length });
        return finished(second.videoId);
      }, 90_000),
    );
    expect(scorer.failures.get(1)).toBe(2);
    expect(during.length).toBeGreaterThan(0);
    for (const d of during.slice(0, -1)) {
      expect(d.status).not.toBe('failed');
      expect(d.segments).toBeGreaterThan(0); // the old timeline stays until the new one commits
    }
    expect(v).toMatchObject({ status: 'indexed', etag: second.etag, doneClips: [0, 1, 2] });
    expect(v.gaps).toBeUndefined();
  });
});

describe('a permanent failure of part of a video', () => {
  it('keeps the rest: indexed_with_gaps, with the missing range in the record and the API', async () => {
    const up = await upload(makeVideo(dir, 'gap.mp4', 6));
    const scorer = new FailingScorer((clip) => (clip === 1 ? damaged() : undefined));
    const v = await withWorker(scorer, () => waitFor('finished', () => finished(up.videoId), 60_000));
    expect(v.status).toBe('indexed_with_gaps');
    expect(v.gaps).toEqual([{ start: 2, end: 4, clip: 1, errorCode: 'VIDEO_CORRUPT', reason: expect.stringContaining('clip 2 of 3 (2s to 4s) could not be decoded') }]);
    // The other clips' windows made segments; none starts inside the gap.
    const segments = await stack.store.timelineOf(up.videoId);
    expect(segments.length).toBeGreaterThan(0);
    expect(segments.every((s) => s.start < 2 || s.start >= 4)).toBe(true);

    const view = await api.handle({ method: 'GET', path: `/videos/${up.videoId}`, query: {} });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ status: 'indexed_with_gaps', gaps: [{ start: 2, end: 4, clip: 1, errorCode: 'VIDEO_CORRUPT' }] });
    const timeline = await api.handle({ method: 'GET', path: `/videos/${up.videoId}/timeline`, query: {} });
    expect(timeline.body).toMatchObject({ complete: true, video: { status: 'indexed_with_gaps', gaps: [expect.objectContaining({ start: 2, end: 4 })] } });
  });

  it('a video whose every clip fails for good is failed; uploading the same bytes again retries it', async () => {
    const file = makeVideo(dir, 'all-bad.mp4', 4);
    const up = await upload(file);
    const v = await withWorker(new FailingScorer(() => damaged()), () => waitFor('finished', () => finished(up.videoId), 60_000));
    expect(v).toMatchObject({ status: 'failed', errorCode: 'VIDEO_CORRUPT' });
    expect(await stack.store.clipsOf(up.videoId, up.etag)).toEqual([]);

    // The same bytes again (the stretch was a bad read after all): a retry, not an ignored duplicate.
    const again = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, file);
    expect(again.etag).toBe(up.etag);
    const r = await makeSegmenterHandler(testSegmenterDeps(stack))(s3CreatedEvent([again]));
    expect(r.results[0]).toMatchObject({ outcome: 'queued', clips: 2 });
    const done = await withWorker(new DeterministicScorer(3), () => waitFor('indexed', () => finished(up.videoId), 60_000));
    expect(done).toMatchObject({ status: 'indexed', etag: up.etag, doneClips: [0, 1] });
  });
});
