/**
 * Per-person detection per keyframe, side by side in one run (synthesized models, CPU, 2 threads):
 * the person detector alone and the action model alone on the inputs of one keyframe (inference
 * only, after a warm-up run), and the whole `analyze --detect` path per keyframe (decode, pack,
 * both models, selection, tracks, segments) from analyzeDetections. Target: the rest costs < 15 %
 * over the sum of the two inference-only times.
 *
 * Synthetic detector weights find no person, so the detector's manifest is given personLabel 52
 * (the label the synthetic graph emits) and threshold 0, capped at 5 people per keyframe.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeDetections } from '../core/detection/analyze.ts';
import { ActionDetector, PersonDetector } from '../core/model/detectors.ts';
import { ffmpegPath } from '../core/video/ffmpeg.ts';
import { probe } from '../core/video/probe.ts';
import { synthesize } from '../models/convert.ts';

const THREADS = 2;
const KEYFRAMES = 3;
const MAX_PEOPLE = 5;


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
    const people = await PersonDetector.load(peopleJson, { device: 'cpu', threads: THREADS, log: () => {} });
    const actions = await ActionDetector.load(actionsJson, { device: 'cpu', threads: THREADS, log: () => {} });
    try {
      // Warm-up (first runs plan and allocate), then the whole path.
      await analyzeDetections(video, info, { people, actions }, { keyframeInterval: KEYFRAMES, scoreThreshold: 0, maxPeople: MAX_PEOPLE });
      const t0 = performance.now();
      const { result, timings } = await analyzeDetections(video, info, { people, actions }, { scoreThreshold: 0, maxPeople: MAX_PEOPLE });
      const wholeMs = (performance.now() - t0) / result.keyframes.length;
      const detMs = timings.detectorMs / result.keyframes.length;
      const actMs = timings.actionMs / result.keyframes.length;
      const withPeople = result.keyframes.filter((k) => k.people.length > 0).length;
      console.log(`${result.keyframes.length} keyframes of a ${info.width}x${info.height} video, ${withPeople} with people (<= ${MAX_PEOPLE} each), CPU ${THREADS} threads`);
      console.log(`  detector (inference only)      ${(detMs / 1000).toFixed(3)} s/keyframe`);
      console.log(`  action model (inference only)  ${(actMs / 1000).toFixed(3)} s/keyframe`);
      console.log(`  analyze --detect, whole path   ${(wholeMs / 1000).toFixed(3)} s/keyframe = ${(wholeMs / (detMs + actMs)).toFixed(3)}x the two inference times (rest ${(((wholeMs - detMs - actMs) / (detMs + actMs)) * 100).toFixed(1)} %; decode+pack ${(timings.decodeMs / result.keyframes.length / 1000).toFixed(3)} s/keyframe)`);
    } finally {
      await people.close();
      await actions.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
