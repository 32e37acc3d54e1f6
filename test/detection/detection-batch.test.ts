/**
 * Batching keyframes through the action model changes nothing but the number of runs: the
 * detections of a 3-keyframe video are the same with one clip a run and with three clips in one
 * run, and the faint people (below the person threshold, kept for the tracker) come out of the
 * same detector run without an action-model run.
 *
 * Synthetic weights find no person, so the detector's manifest is given personLabel 52 (what the
 * synthetic graph labels everything) and its minSize lowered to 150, as detection-entries.test.ts
 * does, and the action model's shortSide to 128 (the graph takes any size): CPU time stays small.
 * The synthetic detector scores everything about 0.015. Each model is loaded once.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planKeyframes } from '../../core/detection/keyframes.ts';
import { detectKeyframes, type DetectionOptions } from '../../core/detection/runner.ts';
import { ActionDetector, PersonDetector } from '../../core/model/detectors.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import { probe } from '../../core/video/probe.ts';
import { synthesize } from '../../models/convert.ts';

let work: string;
let people: string;
let actions: string;
let video: string;
let p: PersonDetector;
let a: ActionDetector;
const quiet = { device: 'cpu' as const, threads: 2, log: () => undefined };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vidx-detect-batch-'));
  people = (await synthesize('fasterrcnn_resnet50_fpn_v2', join(work, 'models'))).manifestPath;
  actions = (await synthesize('slowfast_r50_detection', join(work, 'models'))).manifestPath;
  const m = JSON.parse(readFileSync(people, 'utf8')) as { personLabel: number; minSize: number };
  m.personLabel = 52;
  m.minSize = 150;
  writeFileSync(people, JSON.stringify(m));
  const am = JSON.parse(readFileSync(actions, 'utf8')) as { shortSide: number };
  am.shortSide = 128;
  writeFileSync(actions, JSON.stringify(am));
  p = await PersonDetector.load(people, { ...quiet, entry: 'auto' });
  a = await ActionDetector.load(actions, { ...quiet, entry: 'auto' });
  video = join(work, 'v.mp4');
  execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=3', '-pix_fmt', 'yuv420p', video]);
}, 300_000);
afterAll(async () => {
  await p?.close();
  await a?.close();
  await rm(work, { recursive: true, force: true });
});

async function run(o: DetectionOptions) {
  const before = [p.inference.runs, a.inference.runs];
  const info = await probe(video);
  const r = await detectKeyframes(video, info, planKeyframes(info.duration, 1), { people: p, actions: a }, o);
  return { ...r, runs: [p.inference.runs - before[0]!, a.inference.runs - before[1]!] };
}

describe('detection batching: keyframes through the action model together', () => {
  it('gives the same detections with one clip a run and three clips in one run', async () => {
    const one = await run({ scoreThreshold: 0, maxPeople: 3, actionBatch: 1 });
    const three = await run({ scoreThreshold: 0, maxPeople: 3, actionBatch: 3 });
    expect(one.runs).toEqual([3, 3]);
    expect(three.runs).toEqual([3, 1]);
    expect(one.keyframes).toHaveLength(3);
    expect(one.keyframes.every((k) => k.people.length === 3)).toBe(true);
    expect(three.keyframes).toEqual(one.keyframes);
    expect(three.timings.actionBytes).toBe(one.timings.actionBytes);
  }, 600_000);

  it('keeps people below the person threshold as faint (box and score, no action-model run)', async () => {
    const r = await run({ scoreThreshold: 0.5, faintThreshold: 0, maxPeople: 3 });
    expect(r.runs).toEqual([3, 0]);
    for (const k of r.keyframes) {
      expect(k.people).toEqual([]);
      expect(k.faint).toHaveLength(3);
      expect(k.faint!.every((f) => f.score < 0.5 && f.box[2] > f.box[0])).toBe(true);
    }
  }, 600_000);
});

describe('ActionDetector.predictClips', () => {
  it('gives each clip the probabilities predict gives it alone, and refuses a box list per clip missing', async () => {
    {
      const m = a.manifest;
      const H = 64;
      const W = 96;
      const clipBytes = m.frames * H * W * 3;
      const clips = new Uint8Array(2 * clipBytes);
      for (let i = 0; i < clips.length; i++) clips[i] = (i * 7 + (i >> 11)) & 255;
      const boxes = [[[4, 4, 40, 60]], [[10, 2, 90, 50], [0, 0, 30, 30]]] as const;
      const both = await a.predictClips({ [m.uint8!.input]: clips }, 2, H, W, boxes);
      const first = await a.predict({ [m.uint8!.input]: clips.subarray(0, clipBytes) }, H, W, boxes[0]);
      const second = await a.predict({ [m.uint8!.input]: clips.subarray(clipBytes) }, H, W, boxes[1]);
      const maxDiff = (x: Float32Array[], y: Float32Array[]) => Math.max(...x.flatMap((row, i) => Array.from(row, (v, j) => Math.abs(v - y[i]![j]!))));
      expect(both).toHaveLength(2);
      expect(both[1]).toHaveLength(2);
      expect(maxDiff(both[0]!, first)).toBeLessThan(1e-5);
      expect(maxDiff(both[1]!, second)).toBeLessThan(1e-5);
      await expect(a.predictClips({ [m.uint8!.input]: clips }, 2, H, W, [boxes[0]])).rejects.toMatchObject({ code: 'MODEL_INPUT_MISMATCH' });
    }
  }, 300_000);
});
