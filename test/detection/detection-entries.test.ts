/**
 * The detection runtime's two entries give the same keyframe detections: the uint8 entry (bytes
 * as decoded; the graphs normalize, pad the detector's image and pick the slow frames) and the
 * float entry (normalized and padded on the host, as the parity tests feed it), through
 * detectKeyframes on a generated video.
 *
 * Synthetic weights find no person, so the detector's manifest is given personLabel 52 (what the
 * synthetic graph labels everything) and the run threshold 0, as analyze-detect.test.ts does. The
 * detector's minSize is lowered to 150 (from 800) to keep the CPU time small: the 160 x 120 frame
 * is scaled to 200 x 150, which is no multiple of 32 on either side, so the uint8 entry's graph
 * pads it (to 224 x 160) where the float path pads on the host.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { planKeyframes } from '../../core/detection/keyframes.ts';
import { detectKeyframes } from '../../core/detection/runner.ts';
import { ActionDetector, PersonDetector } from '../../core/model/detectors.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import { shortSideSize } from '../../core/video/normalize.ts';
import { probe } from '../../core/video/probe.ts';
import { synthesize } from '../../models/convert.ts';

let work: string;
let people: string;
let actions: string;
let video: string;
const quiet = { device: 'cpu' as const, threads: 2, log: () => undefined };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vidx-detect-entries-'));
  people = (await synthesize('fasterrcnn_resnet50_fpn_v2', join(work, 'models'))).manifestPath;
  actions = (await synthesize('slowfast_r50_detection', join(work, 'models'))).manifestPath;
  const m = JSON.parse(readFileSync(people, 'utf8')) as { personLabel: number; minSize: number };
  m.personLabel = 52;
  m.minSize = 150;
  writeFileSync(people, JSON.stringify(m));
  video = join(work, 'v.mp4');
  execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=1', '-pix_fmt', 'yuv420p', video]);
}, 300_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function run(entry: 'auto' | 'float') {
  const p = await PersonDetector.load(people, { ...quiet, entry });
  const a = await ActionDetector.load(actions, { ...quiet, entry });
  try {
    const info = await probe(video);
    const r = await detectKeyframes(video, info, planKeyframes(info.duration, 1), { people: p, actions: a }, { scoreThreshold: 0, maxPeople: 3 });
    return { ...r, entries: [p.entry, a.entry], runs: [p.inference.runs, a.inference.runs] };
  } finally {
    await p.close();
    await a.close();
  }
}

describe('detection entries: uint8 (bytes) and float give the same keyframe detections', () => {
  it('same boxes, scores and actions; the uint8 entry hands the models the frames as they are', async () => {
    const bytes = await run('auto');
    const floats = await run('float');
    expect(bytes.entries).toEqual(['uint8', 'uint8']);
    expect(floats.entries).toEqual(['float', 'float']);
    expect(bytes.runs).toEqual([1, 1]);
    expect(floats.runs).toEqual([1, 1]);
    expect(bytes.keyframes).toHaveLength(1);
    expect(bytes.keyframes[0]!.people).toHaveLength(3);
    expect(bytes.keyframes).toEqual(floats.keyframes);
    // Per keyframe: the scaled frame's bytes, and the 32 clip frames' bytes once each; the float
    // entry sends the padded image and both pathways (8 + 32 frames) as float32.
    const clip = shortSideSize(160, 120, 256);
    expect(bytes.timings.detectorBytes).toBe(200 * 150 * 3);
    expect(floats.timings.detectorBytes).toBe(224 * 160 * 3 * 4);
    expect(bytes.timings.actionBytes).toBe(32 * clip.height * clip.width * 3);
    expect(floats.timings.actionBytes).toBe((8 + 32) * 3 * clip.height * clip.width * 4);
  }, 600_000);

  it('a detector bundle whose uint8 entry does not pad in the graph (built before padTo) runs the float entry on auto, and refuses uint8', async () => {
    const old = join(work, 'models', 'old-detector.json');
    const m = JSON.parse(readFileSync(people, 'utf8')) as { uint8: { padTo?: number } };
    delete m.uint8.padTo;
    writeFileSync(old, JSON.stringify(m));
    const p = await PersonDetector.load(old, { ...quiet, entry: 'auto' });
    expect(p.entry).toBe('float');
    await p.close();
    const refused = await PersonDetector.load(old, { ...quiet, entry: 'uint8' }).then(
      () => 'loaded',
      (e: unknown) => (isVidxError(e, 'MODEL_BAD_OPTIONS') ? (e as Error).message : String(e)),
    );
    expect(refused).toMatch(/does not pad to multiples of 32/);
  }, 300_000);
});
