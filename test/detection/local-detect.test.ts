/**
 * Per-person detection through `vidx local`'s stack (emulated S3, SQS, DynamoDB; the real worker
 * scorer on CPU): real footage (cricket_shot.gif as mp4) goes in the way `vidx upload` sends it;
 * the segmenter plans keyframes, the worker detects people and their actions, assembly writes
 * person segments, and the query API returns them with boxes and finds them by label.
 *
 * Synthesized models (labels and scores mean nothing): the synthetic detector labels everything
 * COCO id 52, so its manifest's personLabel is set to 52 and the person threshold to 0 (see
 * test/detection/analyze-detect.test.ts). A 2 s keyframe interval keeps the keyframes (and the CPU
 * time) few. Also: a crowd above the per-keyframe cap, and a rotated phone video, whose indexed
 * boxes must be exactly those `analyze --detect` finds in the same file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { synthesize } from '../../models/convert.ts';
import { loadModelScorer } from '../../gpu-worker/load-model.ts';
import { startLocalStack, type LocalConfig, type LocalStack } from '../../cli/local/stack.ts';
import { putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import { defaultPersonTimelineOptions } from '../../core/detection/defaults.ts';
import { waitFor } from '../helpers/emulators.ts';
import { CRICKET_GIF, makeVideo } from '../helpers/media.ts';
import { analyzeDetections } from '../../core/detection/analyze.ts';
import { DEFAULT_MAX_PEOPLE } from '../../core/detection/people.ts';
import { linkTracks } from '../../core/detection/tracks.ts';
import { ActionDetector, PersonDetector } from '../../core/model/detectors.ts';
import { probe } from '../../core/video/probe.ts';

const INTERVAL = 2;
let dir: string;
let stack: LocalStack | undefined;
/** The same models in this process, for `analyze --detect`'s answer on the same file. */
let detectors: { people: PersonDetector; actions: ActionDetector } | undefined;

async function api<T = Record<string, unknown>>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(`${stack!.apiUrl}${path}`, init);
  return { status: r.status, body: (await r.json()) as T };
}

interface TimelineSegment {
  kind: string;
  label: string;
  person?: number;
  start: number;
  boxes?: { t: number; box: number[] }[];
}

/** Upload as `vidx upload` does, and send the bucket's event: the video id. */
async function upload(file: string): Promise<string> {
  const config = (await api<LocalConfig>('/_local/config')).body;
  const s3 = new S3Client({ region: config.region, endpoint: config.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const uploaded = [await putVideoFile(s3, config.bucket, config.prefix, file)];
  s3.destroy();
  const r = await api('/_local/s3-event', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s3CreatedEvent(uploaded)) });
  expect(r.status).toBe(200);
  return uploaded[0]!.videoId;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-local-detect-'));
  const manifestPath = (await synthesize('i3d_r50', join(dir, 'model'))).manifestPath;
  const peopleModel = (await synthesize('fasterrcnn_resnet50_fpn_v2', join(dir, 'model'))).manifestPath;
  const actionsModel = (await synthesize('slowfast_r50_detection', join(dir, 'model'))).manifestPath;
  const people = JSON.parse(readFileSync(peopleModel, 'utf8')) as { personLabel: number };
  people.personLabel = 52;
  writeFileSync(peopleModel, JSON.stringify(people));
  const scorer = await loadModelScorer(manifestPath, {
    device: 'cpu',
    threads: 2,
    batch: 4,
    analyses: { classify: true, detect: true },
    peopleModel,
    actionsModel,
    keyframeInterval: INTERVAL,
    personThreshold: 0,
  });
  detectors = {
    people: await PersonDetector.load(peopleModel, { device: 'cpu', threads: 2, log: () => undefined }),
    actions: await ActionDetector.load(actionsModel, { device: 'cpu', threads: 2, log: () => undefined }),
  };
  stack = await startLocalStack({
    port: 0,
    dataDir: join(dir, 'data'),
    manifestPath,
    scorer,
    logLevel: 'SILENT',
    worker: { waitTimeSeconds: 1 },
    detection: { keyframeInterval: INTERVAL, people: defaultPersonTimelineOptions(false, INTERVAL) },
  });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await detectors?.people.close();
  await detectors?.actions.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('vidx local with --analyses classify,detect', () => {
  let id = '';

  it('indexes real footage with clip-level and per-person segments', async () => {
    const cricket = join(dir, 'cricket.mp4');
    execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-i', CRICKET_GIF, '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', cricket]);
    id = await upload(cricket);
    await waitFor(`${id} indexed`, async () => (await api<{ status: string }>(`/videos/${id}`)).body.status === 'indexed', 500_000, 1000);

    const t = await api<{ segments: TimelineSegment[] }>(`/videos/${id}/timeline`);
    expect(t.status).toBe(200);
    const kinds = new Set(t.body.segments.map((s) => s.kind));
    expect(kinds).toEqual(new Set(['clip', 'person']));
    const persons = t.body.segments.filter((s) => s.kind === 'person');
    // Keyframes at 1, 3, ... s; at most 20 people each (the default cap), each person with its top 3
    // labels (untrained): at most 60 person segments per keyframe, each box on a keyframe.
    const times = new Set(persons.flatMap((s) => s.boxes!.map((b) => b.t)));
    expect([...times].every((x) => (x - INTERVAL / 2) % INTERVAL === 0)).toBe(true);
    expect(persons.length).toBeGreaterThan(0);
    expect(persons.length).toBeLessThanOrEqual(60 * times.size);
    for (const s of persons) expect(s.person).toBeGreaterThanOrEqual(1);

    const seg = persons[0]!;
    const found = await api<{ items: { videoId: string; kind?: string; person?: number; boxes?: unknown[] }[] }>(`/search?action=${encodeURIComponent(seg.label)}&videoId=${id}&limit=100`);
    expect(found.status).toBe(200);
    expect(found.body.items.some((h) => h.kind === 'person' && h.person === seg.person && (h.boxes?.length ?? 0) === seg.boxes!.length)).toBe(true);
  }, 600_000);

  it('caps a crowd at 20 people per keyframe (the synthetic detector finds up to 100 at threshold 0)', async () => {
    const t = await api<{ segments: TimelineSegment[] }>(`/videos/${id}/timeline`);
    const peoplePerKeyframe = new Map<number, Set<number>>();
    for (const s of t.body.segments.filter((x) => x.kind === 'person')) {
      for (const b of s.boxes!) peoplePerKeyframe.set(b.t, (peoplePerKeyframe.get(b.t) ?? new Set()).add(s.person!));
    }
    expect(peoplePerKeyframe.size).toBeGreaterThan(0);
    for (const ids of peoplePerKeyframe.values()) expect(ids.size).toBe(DEFAULT_MAX_PEOPLE);
  });

  it('indexes a rotated phone video with the boxes `analyze --detect` finds on the frame as it plays (portrait)', async () => {
    const made = await makeVideo(dir, { seconds: 2, fps: 25, width: 160, height: 120, rotate: 90, pattern: 'testsrc', name: 'rotated-phone' });
    const info = await probe(made.path);
    expect([info.width, info.height, info.rotation % 180]).toEqual([120, 160, 90]);
    const videoId = await upload(made.path);
    await waitFor(`${videoId} indexed`, async () => (await api<{ status: string }>(`/videos/${videoId}`)).body.status === 'indexed', 300_000, 1000);
    const t = await api<{ segments: TimelineSegment[] }>(`/videos/${videoId}/timeline`);
    const indexed = new Map<string, number[]>();
    for (const s of t.body.segments.filter((x) => x.kind === 'person')) for (const b of s.boxes!) indexed.set(`${s.person}@${b.t}`, b.box);

    const local = await analyzeDetections(made.path, info, { people: detectors!.people, actions: detectors!.actions }, { keyframeInterval: INTERVAL, scoreThreshold: 0 });
    const expected = new Map<string, number[]>();
    const ids = linkTracks(local.result.keyframes);
    local.result.keyframes.forEach((k, i) => k.people.forEach((p, j) => expected.set(`${ids[i]![j]}@${k.t}`, p.box)));
    expect(expected.size).toBeGreaterThan(0);
    expect(indexed).toEqual(expected);
  }, 600_000);

  it('/actions knows AVA labels as well as Kinetics ones', async () => {
    const r = await api<{ actions: { label: string }[] }>('/actions?q=smoke');
    expect(r.body.actions.map((a) => a.label)).toContain('smoke');
    const k = await api<{ actions: { label: string }[] }>('/actions?q=cricket');
    expect(k.body.actions.length).toBeGreaterThan(0);
  });
});
