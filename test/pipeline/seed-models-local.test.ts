/**
 * `vidx local --model <manifest.json>` end to end with each of the other seed papers' models
 * (synthesized I3D Inception-V1, MARS ResNeXt-101, TPS Swin-T, on CPU): the stack is started the
 * way the command starts it (the manifest, a CPU scorer loaded from it, startLocalStack), a short
 * ffmpeg-made video goes in the way `vidx upload` sends it (put to the emulated S3, then the S3
 * event to POST /_local/s3-event), and the query API serves an indexed video that names the
 * model's architecture, with a timeline of Kinetics-400 labels over that model's own windows.
 * One video per model, one clip per video, one or two windows per clip: the least CPU that still
 * runs every stage with the model's window contract and preprocessing.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { synthesize } from '../../models/convert.ts';
import { loadKinetics400Labels } from '../../models/labels.ts';
import { loadModelScorer } from '../../gpu-worker/load-model.ts';
import type { LocalConfig, LocalStack } from '../../cli/local/stack.ts';
import { putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { loadManifest } from '../../core/pipeline/model-ref.ts';
import { planWindows } from '../../core/video/windows.ts';
import { TimelineResponseSchema, VideoViewSchema } from '../../core/query/responses.ts';
import { waitFor } from '../helpers/emulators.ts';
import { makeVideo } from './fixtures.ts';

const kinetics = new Set(loadKinetics400Labels());

describe.each([
  // [arch, seconds of video: its window length (s) -> windows in it]
  { arch: 'i3d_inception_v1', seconds: 3, windows: 1 }, // 64 frames at 25 fps: 2.56 s
  { arch: 'mars_resnext101', seconds: 1.4, windows: 2 }, // 16 frames at 25 fps: 0.64 s
  { arch: 'tps_swin_tiny', seconds: 2.5, windows: 1 }, // 32 frames x 2 at 30 fps: 2.13 s
] as const)('vidx local --model <$arch manifest>', ({ arch, seconds, windows }) => {
  let dir = '';
  let manifestPath = '';
  let stack: LocalStack | undefined;

  const api = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${stack!.apiUrl}${path}`, init);
    return { status: r.status, body: (await r.json()) as T };
  };

  beforeAll(async () => {
    // The query Lambda logs every request at INFO (its Logger reads the environment, not the
    // stack's logLevel); keep the test's output to the results.
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    dir = mkdtempSync(join(tmpdir(), `vidx-local-${arch}-`));
    manifestPath = (await synthesize(arch, join(dir, 'model'))).manifestPath;
    const scorer = await loadModelScorer(manifestPath, { device: 'cpu', threads: 2, batch: 2 });
    // Each model's stack is its own `vidx local` process: fresh modules (the query Lambda's cold
    // start reads the new emulators' endpoints from the environment).
    vi.resetModules();
    const { startLocalStack } = await import('../../cli/local/stack.ts');
    stack = await startLocalStack({
      port: 0,
      dataDir: join(dir, 'data'),
      manifestPath,
      scorer,
      // Longer than the video: one clip, one job.
      clipSeconds: 10,
      logLevel: 'SILENT',
      worker: { waitTimeSeconds: 1 },
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    vi.unstubAllEnvs();
  });

  it('indexes an uploaded video; its record and timeline name the model and Kinetics-400 actions', async () => {
    const video = makeVideo(dir, `${arch} pattern.mp4`, seconds, { size: '160x120', rate: 25 });
    const config = (await api<LocalConfig>('/_local/config')).body;
    const s3 = new S3Client({ region: config.region, endpoint: config.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const uploaded = await putVideoFile(s3, config.bucket, config.prefix, video).finally(() => s3.destroy());
    const r = await api<{ results: { outcome: string }[] }>('/_local/s3-event', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(s3CreatedEvent([uploaded])),
    });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x) => x.outcome)).toEqual(['queued']);

    const id = uploaded.videoId;
    const record = await waitFor(
      `${arch}: ${id} indexed`,
      async () => {
        const v = VideoViewSchema.parse((await api(`/videos/${id}`)).body);
        expect(v.status, v.reason).not.toBe('failed');
        return v.status === 'indexed' && v;
      },
      240_000,
      500,
    );
    expect(record).toMatchObject({ model: arch, trained: false, clipsTotal: 1, clipsDone: 1 });

    const t = TimelineResponseSchema.parse((await api(`/videos/${id}/timeline`)).body);
    expect(t.complete).toBe(true);
    expect(t.segments.length).toBeGreaterThan(0);
    expect(t.segments.length).toBe(t.video.segments);
    for (const s of t.segments) expect(kinetics.has(s.label), s.label).toBe(true);
    // The segments lie on this model's own windows of the video: each starts where one of them
    // starts and ends where one ends (adjacent windows with the same label merge), and together
    // they span the plan (untrained: threshold 0, so every window's top labels are segments).
    const plan = planWindows(record.duration!, loadManifest(manifestPath));
    expect(plan).toHaveLength(windows);
    const starts = plan.map((w) => w.start);
    const ends = plan.map((w) => w.end);
    for (const s of t.segments) {
      expect(starts).toContainEqual(expect.closeTo(s.start, 6));
      expect(ends).toContainEqual(expect.closeTo(s.end, 6));
    }
    expect(Math.min(...t.segments.map((s) => s.start))).toBeCloseTo(starts[0]!, 6);
    expect(Math.max(...t.segments.map((s) => s.end))).toBeCloseTo(ends.at(-1)!, 6);
  }, 300_000);
});
