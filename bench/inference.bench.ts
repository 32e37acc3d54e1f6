/**
 * Model build time and per-window CPU inference (onnxruntime-node, 2 intra-op threads,
 * graphOptimizationLevel 'all') for every architecture vidx builds, synthetic weights, one after
 * another in one run, then each one's time per window beside the others (ratio to i3d_r50).
 * Targets (issue 2): SlowFast <= 2.6 s/window, I3D <= 1.1 s/window.
 * VIDX_BENCH_MODELS=a,b limits the run to those architectures.
 */
import { availableParallelism, loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { CLASSIFIER_ARCHITECTURES } from '../core/model/manifest.ts';
import type { ClassifierArchitecture } from '../core/model/manifest.ts';
import { detectorInputSize } from '../core/detection/boxes.ts';
import { INPUTS, buildOnnx } from '../models/arch/index.ts';
import { manifestFor, SYNTHETIC_RULE } from '../models/manifests.ts';
import { windowSeconds } from '../core/model/manifest.ts';
import { synthesizeStateDict, syntheticInput } from '../models/synthetic.ts';

const THREADS = 2;
const WARMUP_RUNS = 1;
const TIMED_RUNS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

/** Per window, ms: the median wall time, and CPU time over the thread count. */
async function benchArchitecture(arch: ClassifierArchitecture): Promise<{ wall: number; cpu: number }> {
  let start = performance.now();
  const sd = synthesizeStateDict(arch);
  const synthesizeMs = performance.now() - start;

  start = performance.now();
  const model = buildOnnx(arch, sd);
  const buildMs = performance.now() - start;

  start = performance.now();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const sessionMs = performance.now() - start;

  const feeds: Record<string, ort.Tensor> = {};
  for (const input of INPUTS[arch]) {
    if (input.size === null) throw new Error(`${arch} input ${input.name} has no fixed size`);
    const shape = [1, 3, input.frames, input.size, input.size];
    feeds[input.name] = new ort.Tensor('float32', syntheticInput(input.name, shape), shape);
  }
  for (let i = 0; i < WARMUP_RUNS; i++) await session.run(feeds);
  const runs: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < TIMED_RUNS; i++) {
    start = performance.now();
    await session.run(feeds);
    runs.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(cpuBefore);
  // CPU seconds per window over the thread count: what the wall time would be on 2 idle cores
  // with perfect scaling. Shown beside the wall time because this box is shared and often loaded.
  const cpuPerWindowMs = (cpu.user + cpu.system) / 1000 / TIMED_RUNS / THREADS;
  await session.release();

  console.log(
    `${arch}: synthesize ${seconds(synthesizeMs)}, build ${seconds(buildMs)} (${(model.byteLength / 2 ** 20).toFixed(1)} MiB), ` +
      `session ${seconds(sessionMs)}, inference median ${seconds(median(runs))}/window ` +
      `(min ${seconds(Math.min(...runs))}, ${TIMED_RUNS} runs, ${THREADS} threads; CPU time / threads ${seconds(cpuPerWindowMs)})`,
  );
  return { wall: median(runs), cpu: cpuPerWindowMs };
}

/** Detection runs are long (seconds each on 2 cores): one warm-up, two timed. */
const DETECTION_TIMED_RUNS = 2;
const FRAME = { width: 1920, height: 1080 };
const PEOPLE = 3;

async function timeRuns(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<{ median: number; min: number; sessionMs: number; cpuMs: number }> {
  let start = performance.now();
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const sessionMs = performance.now() - start;
  try {
    await session.run(feeds);
    const runs: number[] = [];
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < DETECTION_TIMED_RUNS; i++) {
      start = performance.now();
      await session.run(feeds);
      runs.push(performance.now() - start);
    }
    const cpu = process.cpuUsage(cpuBefore);
    // CPU time per run over the threads: the wall time on idle cores (this box is shared).
    return { median: median(runs), min: Math.min(...runs), sessionMs, cpuMs: (cpu.user + cpu.system) / 1000 / DETECTION_TIMED_RUNS / THREADS };
  } finally {
    await session.release();
  }
}

async function benchDetectionModels(): Promise<void> {
  const detector = manifestFor('fasterrcnn_resnet50_fpn_v2', { kind: 'synthetic', rule: SYNTHETIC_RULE }, false);
  if (detector.task !== 'detect-people') throw new Error('fasterrcnn_resnet50_fpn_v2 is a person detector');
  const { padded } = detectorInputSize(FRAME, detector.minSize, detector.maxSize, detector.sizeDivisible);
  const imageShape = [1, 3, padded.height, padded.width];
  const det = await timeRuns(buildOnnx('fasterrcnn_resnet50_fpn_v2', synthesizeStateDict('fasterrcnn_resnet50_fpn_v2')), {
    image: new ort.Tensor('float32', syntheticInput('image', imageShape), imageShape),
    // The graph's work does not depend on the threshold (NMS sees every candidate over it).
    score_threshold: new ort.Tensor('float32', Float32Array.of(detector.scoreThreshold), []),
  });
  console.log(
    `fasterrcnn_resnet50_fpn_v2: ${seconds(det.median)}/frame at ${padded.width}x${padded.height} ` +
      `(min ${seconds(det.min)}, ${DETECTION_TIMED_RUNS} runs, session ${seconds(det.sessionMs)}, ${THREADS} threads; CPU time / threads ${seconds(det.cpuMs)})`,
  );

  const height = 256;
  const width = Math.round((FRAME.width * height) / FRAME.height);
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of INPUTS.slowfast_r50_detection) {
    const shape = [1, 3, input.frames, height, width];
    feeds[input.name] = new ort.Tensor('float32', syntheticInput(input.name, shape), shape);
  }
  const boxes = Array.from({ length: PEOPLE }, (_, k) => [0, 40 + 120 * k, 30, 140 + 120 * k, 250]).flat();
  feeds.boxes = new ort.Tensor('float32', Float32Array.from(boxes), [PEOPLE, 5]);
  const act = await timeRuns(buildOnnx('slowfast_r50_detection', synthesizeStateDict('slowfast_r50_detection')), feeds);
  console.log(
    `slowfast_r50_detection: ${seconds(act.median)}/keyframe at ${width}x${height}, ${PEOPLE} people ` +
      `(min ${seconds(act.min)}, ${DETECTION_TIMED_RUNS} runs, session ${seconds(act.sessionMs)}, ${THREADS} threads; CPU time / threads ${seconds(act.cpuMs)}); ` +
      `detector + action model ${seconds(det.median + act.median)}/keyframe, detector ${((100 * det.median) / (det.median + act.median)).toFixed(0)} % of it`,
  );
}

export async function run(): Promise<void> {
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
  const wanted = process.env.VIDX_BENCH_MODELS?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const archs = CLASSIFIER_ARCHITECTURES.filter((a) => !wanted || wanted.includes(a));
  const medians = new Map<ClassifierArchitecture, { wall: number; cpu: number }>();
  for (const arch of archs) medians.set(arch, await benchArchitecture(arch));
  const base = medians.get('i3d_r50') ?? null;
  console.log('\nper window, side by side (this run; window = frames x rate / fps of the manifest):');
  for (const [arch, ms] of medians) {
    const seconds = windowSeconds(manifestFor(arch, { kind: 'synthetic', rule: SYNTHETIC_RULE }, false));
    const ratio = (key: 'wall' | 'cpu') => (base === null ? '' : ` (${(ms[key] / base[key]).toFixed(2)}x i3d_r50)`);
    console.log(
      `  ${arch.padEnd(18)} wall ${(ms.wall / 1000).toFixed(3)} s${ratio('wall')}, CPU / threads ${(ms.cpu / 1000).toFixed(3)} s${ratio('cpu')} per window; a window covers ${seconds.toFixed(2)} s of video`,
    );
  }
  if (!wanted || wanted.some((w) => w === 'slowfast_r50_detection' || w === 'fasterrcnn_resnet50_fpn_v2')) await benchDetectionModels();
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
