/**
 * Per-person detection per keyframe, both model entries side by side in one run (synthesized
 * models, CPU, 2 threads): the whole `analyze --detect` path per keyframe (decode, packing where
 * the entry takes floats, both models, selection, tracks, segments: analyzeDetections), and
 * inside that same path the two models' inference-only times, i.e. the wall time of their
 * session.run calls alone (PersonDetector/ActionDetector `inference`: no packing, tensor wrapping
 * or output copies), and the bytes handed to each model per keyframe (their image/clip inputs).
 * Target: the rest of the path costs < 15 % over the sum of the two inference-only times.
 *
 * - uint8 entry (what analyze --detect and the worker run): the scaled frame's bytes as decoded
 *   (the detector's graph normalizes and pads to 32), the 32 clip frames' bytes (the action
 *   model's graph normalizes and picks the 8 slow frames).
 * - float entry (parity tests): the image normalized and padded, both pathways normalized, in
 *   JavaScript, handed over as float32.
 *
 * Synthetic detector weights find no person, so the detector's manifest is given personLabel 52
 * (the label the synthetic graph emits) and threshold 0, capped at 5 people per keyframe. Both
 * entries' models are loaded side by side and warmed up (first runs plan and allocate), then the
 * whole path runs uint8, float, float, uint8 and each entry's figures are the mean of its passes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeDetections } from '../core/detection/analyze.ts';
import { ActionDetector, PersonDetector } from '../core/model/detectors.ts';
import type { Entry } from '../core/model/engine.ts';
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
}

interface Models {
  people: PersonDetector;
  actions: ActionDetector;
}

async function load(entry: Entry, peopleJson: string, actionsJson: string): Promise<Models> {
  const options = { device: 'cpu' as const, threads: THREADS, entry, log: () => {} };
  const people = await PersonDetector.load(peopleJson, options);
  const actions = await ActionDetector.load(actionsJson, options).catch(async (e: unknown) => {
    await people.close();
    throw e;
  });
  if (people.entry !== entry || actions.entry !== entry) throw new Error(`asked for the ${entry} entry, got ${people.entry} and ${actions.entry}`);
  return { people, actions };
}

/** One measured pass of the whole path over every keyframe. */
async function measure(models: Models, video: string, info: VideoInfo): Promise<Figures> {
  const { people, actions } = models;
  const det0 = people.inference.ms;
  const act0 = actions.inference.ms;
  const t0 = performance.now();
  const { result, timings } = await analyzeDetections(video, info, models, { scoreThreshold: 0, maxPeople: MAX_PEOPLE });
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
    const byEntry: Record<Entry, Models | undefined> = { uint8: undefined, float: undefined };
    const passes: Record<Entry, Figures[]> = { uint8: [], float: [] };
    try {
      byEntry.uint8 = await load('uint8', peopleJson, actionsJson);
      byEntry.float = await load('float', peopleJson, actionsJson);
      // Warm-up (first runs plan and allocate): one keyframe each.
      for (const models of [byEntry.uint8, byEntry.float]) await analyzeDetections(video, info, models, { keyframeInterval: KEYFRAMES, scoreThreshold: 0, maxPeople: MAX_PEOPLE });
      // ABBA: a drift in the shared machine's load falls on both entries alike.
      for (const entry of ['uint8', 'float', 'float', 'uint8'] as const) passes[entry].push(await measure(byEntry[entry]!, video, info));
    } finally {
      for (const models of Object.values(byEntry)) {
        await models?.people.close();
        await models?.actions.close();
      }
    }
    const u8 = mean(passes.uint8);
    const f32 = mean(passes.float);
    const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
    const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
    const sum = (f: Figures) => f.detectorRunMs + f.actionRunMs;
    const rows: Array<[string, (f: Figures) => string]> = [
      ['detector, session.run only, per keyframe', (f) => s(f.detectorRunMs)],
      ['action model, session.run only, per keyframe', (f) => s(f.actionRunMs)],
      ['analyze --detect, whole path, per keyframe', (f) => s(f.wholeMs)],
      ['  = x the sum of the two session.run times', (f) => `${(f.wholeMs / sum(f)).toFixed(3)}x (rest ${(((f.wholeMs - sum(f)) / sum(f)) * 100).toFixed(1)} %)`],
      ['  of which decode (+ float packing)', (f) => s(f.packMs)],
      ['bytes to the detector per keyframe', (f) => mb(f.detectorBytes)],
      ['bytes to the action model per keyframe', (f) => mb(f.actionBytes)],
    ];
    console.log(`${u8.keyframes} keyframes of a ${info.width}x${info.height} video, ${u8.withPeople} with people (<= ${MAX_PEOPLE} each), CPU ${THREADS} threads; one run, passes uint8, float, float, uint8 (means)`);
    console.log(`  ${''.padEnd(46)}${'uint8 entry'.padStart(22)}${'float entry'.padStart(22)}`);
    for (const [label, cell] of rows) console.log(`  ${label.padEnd(46)}${cell(u8).padStart(22)}${cell(f32).padStart(22)}`);
    console.log(`  whole path, uint8 / float: ${(u8.wholeMs / f32.wholeMs).toFixed(3)}; bytes to the models, uint8 / float: ${((u8.detectorBytes + u8.actionBytes) / (f32.detectorBytes + f32.actionBytes)).toFixed(3)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
