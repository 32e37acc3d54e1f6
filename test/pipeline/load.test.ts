/**
 * Load: 50 short videos uploaded at once (concurrent puts, one S3 event each, delivered
 * concurrently as S3 -> Lambda would) all end `indexed` with exactly the expected segments.
 * Deterministic count: every video is shorter than one window (1 window), the scorer keeps the
 * top 3 labels and the threshold is 0, so each video has exactly 3 segments, and the count also
 * equals mergeSegments over the stored clip windows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStack, queueDepth, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, quiet, testSegmenterDeps } from './fixtures.ts';
import type { ClipScorer } from '../../core/pipeline/clip-scorer.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import { mergeSegments } from '../../core/timeline/merge.ts';
import { ClipWindowsSchema } from '../../core/records.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';

const N = 50;
/**
 * The load runs through the real model (a synthesized i3d_r50 on CPU, windows of concurrent
 * clips batched together on it). VIDX_LOAD_STAND_IN=1 swaps in the deterministic scorer for a
 * quick local loop over the same queue/index path.
 */
const REAL = process.env.VIDX_LOAD_STAND_IN !== '1';
const run = promisify(execFile);

let stack: TestStack;
let dir: string;
let files: string[] = [];
let scorer: ClipScorer;
let TOP_K = 3;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-load-'));
  stack = await startTestStack();
  // 50 different 0.8 s videos (one window each), made two at a time.
  const names = Array.from({ length: N }, (_, i) => join(dir, `load-${String(i).padStart(2, '0')}.mp4`));
  for (let i = 0; i < N; i += 2) {
    await Promise.all(
      names.slice(i, i + 2).map((out, j) =>
        run(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `color=c=0x${((i + j) * 5021 % 0xffffff).toString(16).padStart(6, '0')}:size=64x48:rate=10:duration=0.8`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out]),
      ),
    );
  }
  files = names;
  if (REAL) {
    const { synthesize } = await import('../../models/convert.ts');
    const { loadModelScorer } = await import('../../gpu-worker/load-model.ts');
    scorer = await loadModelScorer((await synthesize('i3d_r50', join(dir, 'model'))).manifestPath, { device: 'cpu', threads: 2, batch: 4, maxBatch: 10 });
    TOP_K = scorer.topK;
  } else {
    scorer = new DeterministicScorer(TOP_K);
  }
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('load', () => {
  it(`${N} videos uploaded at once all end indexed with exactly the expected segments`, async () => {
    const segment = makeSegmenterHandler(testSegmenterDeps(stack, { clipSeconds: 60, windowStarts: (d) => scorer.windowsFor(d).map((w) => w.start) }));
    const worker = new ClipWorker({
      sqs: stack.clients.sqs,
      queueUrl: stack.resources.queueUrl,
      s3: stack.clients.s3,
      store: stack.store,
      scorer,
      timeline: { threshold: 0, gap: 1 },
      log: quiet,
      waitTimeSeconds: 1,
      batchSize: 10,
    });
    worker.start();
    const t0 = performance.now();
    try {
      const uploaded = await Promise.all(files.map((f) => putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, f)));
      // Segmenter invocations run concurrently, like Lambda's; two at a time for 2 cores' ffprobe.
      for (let i = 0; i < uploaded.length; i += 4) {
        await Promise.all(uploaded.slice(i, i + 4).map((u) => segment(s3CreatedEvent([u]))));
      }
      const tQueued = performance.now();
      await waitFor('all indexed', async () => {
        const vs = await Promise.all(uploaded.map((u) => stack.store.getVideo(u.videoId, { consistent: false })));
        return vs.every((v) => v?.status === 'indexed');
      }, 480_000, 250);
      const wall = (performance.now() - t0) / 1000;
      const line = `load (${REAL ? 'synthesized i3d_r50, CPU' : 'deterministic scorer'}): ${N} videos indexed in ${wall.toFixed(2)} s wall (${(N / wall).toFixed(1)} videos/s; segmenter done after ${((tQueued - t0) / 1000).toFixed(2)} s); worker ${JSON.stringify(worker.status())}`;
      process.stdout.write(`${line}\n`);

      for (const u of uploaded) {
        const v = (await stack.store.getVideo(u.videoId))!;
        const clips = await stack.store.clipsOf(u.videoId, v.etag);
        const windows = clips.flatMap((c) => ClipWindowsSchema.parse(JSON.parse(c.windows)));
        expect(windows).toHaveLength(1);
        expect(v.segments).toBe(TOP_K);
        expect(mergeSegments(windows, { threshold: 0, gap: 1 })).toHaveLength(TOP_K);
        expect(await stack.store.timelineOf(u.videoId)).toHaveLength(TOP_K);
      }
      // The GET /videos listing sees all of them.
      const listed = await stack.store.listVideos({ limit: N + 10 });
      expect(listed.items).toHaveLength(N);
      expect(listed.next).toBeUndefined();
      expect(await queueDepth(stack.clients, stack.resources.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
      expect(worker.status().retried).toBe(0);
    } finally {
      await worker.stop();
    }
  }, 600_000);
});
