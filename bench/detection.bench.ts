/**
 * Per-person detection per keyframe, today's way and the batched way side by side in one run
 * (synthesized models, CPU, 2 threads, the uint8 entry that analyze --detect and the worker run):
 *
 * - one at a time: the keyframe images and the action clips decoded in two ffmpeg passes (one per
 *   size), the action model run once per keyframe with people;
 * - batched: one ffmpeg pass for both sizes (each frame decoded once), the keyframes' clips through
 *   the action model 3 in one run (the person detector's graph takes one image a run either way).
 *
 * Figures per keyframe: the whole `analyze --detect` path (decode, both models, selection, tracks,
 * segments: analyzeDetections), inside it the two models' inference-only times (the wall time of
 * their session.run calls: PersonDetector/ActionDetector `inference`), the decode time, and the
 * bytes handed to each model.
 *
 * Synthetic detector weights find no person, so the detector's manifest is given personLabel 52
 * (the label the synthetic graph emits) and threshold 0, capped at 5 people per keyframe. Both
 * models are loaded once and warmed up (first runs plan and allocate; a batch of 3 is its own
 * shape), then the path runs one-at-a-time, batched, batched, one-at-a-time and each way's
 * figures are the mean of its passes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeDetections } from '../core/detection/analyze.ts';
import { ActionDetector, PersonDetector } from '../core/model/detectors.ts';
import { ffmpegPath } from '../core/video/ffmpeg.ts';
import { probe, type VideoInfo } from '../core/video/probe.ts';
import { synthesize } from '../models/convert.ts';

const THREADS = 2;
const KEYFRAMES = 3;
const MAX_PEOPLE = 5;

interface Figures {
  keyframes: number;
  withPeople: number;
  /** Per keyframe, ms. */
  wholeMs: number;
  detectorRunMs: number;
  actionRunMs: number;
  packMs: number;
  /** Per keyframe (the action model runs on keyframes with people only: per keyframe with people). */
  detectorBytes: number;
  actionBytes: number;
  /** Action-model runs in the pass. */
  actionRuns: number;
}

interface Models {
  people: PersonDetector;
  actions: ActionDetector;
}

const WAYS = {
  single: { passes: 'two', actionBatch: 1 },
  batched: { passes: 'one', actionBatch: KEYFRAMES },
} as const;
type Way = keyof typeof WAYS;

async function load(peopleJson: string, actionsJson: string): Promise<Models> {
  const options = { device: 'cpu' as const, threads: THREADS, entry: 'uint8' as const, log: () => {} };
  const people = await PersonDetector.load(peopleJson, options);
  const actions = await ActionDetector.load(actionsJson, options).catch(async (e: unknown) => {
    await people.close();
    throw e;
  });
  return { people, actions };
}

/** One measured pass of the whole path over every keyframe. */
async function measure(models: Models, video: string, info: VideoInfo, way: Way): Promise<Figures> {
  const { people, actions } = models;
  const det0 = people.inference.ms;
  const act0 = actions.inference.ms;
  const runs0 = actions.inference.runs;
  const t0 = performance.now();
  const { result, timings } = await analyzeDetections(video, info, models, { scoreThreshold: 0, maxPeople: MAX_PEOPLE, ...WAYS[way] });
  const whole = performance.now() - t0;
  const n = result.keyframes.length;
  const withPeople = result.keyframes.filter((k) => k.people.length > 0).length;
  return {
    keyframes: n,
    withPeople,
    wholeMs: whole / n,
    detectorRunMs: (people.inference.ms - det0) / n,
    actionRunMs: (actions.inference.ms - act0) / n,
    packMs: timings.decodeMs / n,
    detectorBytes: timings.detectorBytes / n,
    actionBytes: timings.actionBytes / Math.max(1, withPeople),
    actionRuns: actions.inference.runs - runs0,
  };
}

/** The mean of passes, field by field. */
function mean(passes: Figures[]): Figures {
  const out = { ...passes[0]! };
  for (const k of Object.keys(out) as (keyof Figures)[]) out[k] = passes.reduce((sum, p) => sum + p[k], 0) / passes.length;
  return out;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vidx-bench-detect-'));
  try {
    const peopleJson = (await synthesize('fasterrcnn_resnet50_fpn_v2', join(dir, 'm'))).manifestPath;
    const actionsJson = (await synthesize('slowfast_r50_detection', join(dir, 'm'))).manifestPath;
    const m = JSON.parse(readFileSync(peopleJson, 'utf8')) as { personLabel: number };
    m.personLabel = 52;
    writeFileSync(peopleJson, JSON.stringify(m));
    const video = join(dir, 'v.mp4');
    execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=30:duration=${KEYFRAMES}`, '-pix_fmt', 'yuv420p', video]);
    const info = await probe(video);
    const passes: Record<Way, Figures[]> = { single: [], batched: [] };
    const models = await load(peopleJson, actionsJson);
    try {
      // Warm-up: each way once over every keyframe (the batch of 3 is a shape of its own).
      for (const way of ['single', 'batched'] as const) await measure(models, video, info, way);
      // ABBA: a drift in the shared machine's load falls on both ways alike.
      for (const way of ['single', 'batched', 'batched', 'single'] as const) passes[way].push(await measure(models, video, info, way));
    } finally {
      await models.people.close();
      await models.actions.close();
    }
    const one = mean(passes.single);
    const bat = mean(passes.batched);
    const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
    const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
    const sum = (f: Figures) => f.detectorRunMs + f.actionRunMs;
    const rows: Array<[string, (f: Figures) => string]> = [
      ['detector, session.run only, per keyframe', (f) => s(f.detectorRunMs)],
      ['action model, session.run only, per keyframe', (f) => s(f.actionRunMs)],
      ['  action-model runs per pass', (f) => String(f.actionRuns)],
      ['decode, per keyframe', (f) => s(f.packMs)],
      ['analyze --detect, whole path, per keyframe', (f) => s(f.wholeMs)],
      ['  = x the sum of the two session.run times', (f) => `${(f.wholeMs / sum(f)).toFixed(3)}x`],
      ['bytes to the detector per keyframe', (f) => mb(f.detectorBytes)],
      ['bytes to the action model per keyframe', (f) => mb(f.actionBytes)],
    ];
    console.log(`${one.keyframes} keyframes of a ${info.width}x${info.height} video, ${one.withPeople} with people (<= ${MAX_PEOPLE} each), CPU ${THREADS} threads, uint8 entry; one run, passes one-at-a-time, batched, batched, one-at-a-time (means)`);
    console.log(`  ${''.padEnd(46)}${'one at a time'.padStart(22)}${'batched'.padStart(22)}`);
    console.log(`  ${''.padEnd(46)}${'(2 ffmpeg passes, 1 clip a run)'.padStart(34)}${`(1 pass, ${KEYFRAMES} clips a run)`.padStart(26)}`);
    for (const [label, cell] of rows) console.log(`  ${label.padEnd(46)}${cell(one).padStart(22)}${cell(bat).padStart(22)}`);
    const ratio = (f: (x: Figures) => number) => (f(bat) / f(one)).toFixed(3);
    console.log(`  batched / one at a time: whole path ${ratio((f) => f.wholeMs)}, action session.run ${ratio((f) => f.actionRunMs)}, decode ${ratio((f) => f.packMs)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
