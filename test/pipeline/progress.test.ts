/**
 * Per-window progress through the pipeline on the emulators: the segmenter records the units each
 * clip owns, the worker raises a clip's count as it scores, and the API's view of the video shows
 * windows done of total with an ETA, never moving back on a redelivery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startTestStack, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo, quiet, testSegmenterDeps } from './fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { uploadAndNotify } from '../../cli/local/upload.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { videoKey } from '../../adapters/dynamo-index/layout.ts';
import { videoView } from '../../core/query/views.ts';
import { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import type { KeyframePlan } from '../../core/detection/keyframes.ts';
import type { PlannedWindow, VideoFactsForScoring } from '../../core/pipeline/clip-scorer.ts';

/** Scores like DeterministicScorer, but reports one window, then waits until released. */
class GatedScorer extends DeterministicScorer {
  release!: () => void;
  readonly gate = new Promise<void>((r) => (this.release = r));
  override async score(source: string, video: VideoFactsForScoring, windows: readonly PlannedWindow[], signal: AbortSignal, _k?: readonly KeyframePlan[], onProgress?: (done: number) => void) {
    onProgress?.(1);
    await this.gate;
    onProgress?.(windows.length);
    return super.score(source, video, windows, signal);
  }
}

let stack: TestStack;
let dir: string;
let reader: DynamoIndex;

beforeAll(async () => {
  stack = await startTestStack();
  dir = mkdtempSync(join(tmpdir(), 'vidx-progress-'));
  reader = new DynamoIndex(stack.clients.doc, stack.resources.tableName);
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function view(videoId: string) {
  return videoView((await reader.getVideo(videoId))!);
}

describe('window progress', () => {
  it('shows windows done of total with an ETA while a clip is scored, and all of them once indexed', async () => {
    const file = makeVideo(dir, 'one-clip.mp4', 4);
    const [up] = await uploadAndNotify(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, [file], makeSegmenterHandler(testSegmenterDeps(stack, { clipSeconds: 10 })));
    const queued = await view(up!.videoId);
    expect(queued.progress).toMatchObject({ windowsDone: 0, etaSeconds: null });
    const total = queued.progress!.windowsTotal;
    expect(total).toBeGreaterThan(1);

    const scorer = new GatedScorer();
    const worker = new ClipWorker({
      sqs: stack.clients.sqs, queueUrl: stack.resources.queueUrl, s3: stack.clients.s3, store: stack.store, scorer,
      timeline: { threshold: 0, gap: 1 }, log: quiet, waitTimeSeconds: 1, visibilityTimeoutSeconds: 30, heartbeatSeconds: 5, progressEverySeconds: 0,
    });
    worker.start();
    try {
      const mid = await waitFor('one window reported', async () => {
        const v = await view(up!.videoId);
        return (v.progress?.windowsDone ?? 0) >= 1 && v;
      });
      expect(mid.progress!.windowsDone).toBe(1);
      expect(mid.progress!.windowsTotal).toBe(total);
      expect(typeof mid.progress!.etaSeconds).toBe('number');
      scorer.release();
      const done = await waitFor('indexed', async () => {
        const v = await view(up!.videoId);
        return v.status === 'indexed' && v;
      });
      expect(done.progress).toEqual({ windowsDone: total, windowsTotal: total, etaSeconds: 0 });
    } finally {
      scorer.release();
      await worker.stop();
    }
  });

  it('only ever raises a clip count, for the current revision, and leaves records without a progress map alone', async () => {
    const file = makeVideo(dir, 'raise-only.mp4', 4);
    const [up] = await uploadAndNotify(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, [file], makeSegmenterHandler(testSegmenterDeps(stack, { clipSeconds: 10 })));
    const id = up!.videoId;
    const etag = (await stack.store.getVideo(id))!.etag;
    expect(await stack.store.recordClipProgress(id, etag, 0, 3)).toBe(true);
    // A redelivered clip starts again from the beginning: its lower counts change nothing.
    expect(await stack.store.recordClipProgress(id, etag, 0, 1)).toBe(false);
    expect(await stack.store.recordClipProgress(id, 'another-etag', 0, 9)).toBe(false);
    expect((await stack.store.getVideo(id))!.clipWindows).toEqual({ '0': 3 });
    expect((await view(id)).progress!.windowsDone).toBe(3);

    await stack.clients.doc.send(new UpdateCommand({ TableName: stack.resources.tableName, Key: videoKey(id), UpdateExpression: 'REMOVE clipWindows, clipUnits' }));
    expect(await stack.store.recordClipProgress(id, etag, 0, 4)).toBe(false);
    expect((await view(id)).progress).toBeUndefined();
  });
});
