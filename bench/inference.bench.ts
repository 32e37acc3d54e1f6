/**
 * Model build time and per-window CPU inference (onnxruntime-node, 2 intra-op threads,
 * graphOptimizationLevel 'all') for every architecture vidx builds, synthetic weights, one after
 * another in one run, then each one's time per window beside the others (ratio to i3d_r50).
 * Targets (issue 2): SlowFast <= 2.6 s/window, I3D <= 1.1 s/window.
 * VIDX_BENCH_MODELS=a,b limits the run to those architectures.
 */
import { availableParallelism, loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { ARCHITECTURES } from '../core/model/manifest.ts';
import type { Architecture } from '../core/model/manifest.ts';
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
async function benchArchitecture(arch: Architecture): Promise<{ wall: number; cpu: number }> {
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

export async function run(): Promise<void> {
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
  const wanted = process.env.VIDX_BENCH_MODELS?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const archs = ARCHITECTURES.filter((a) => !wanted || wanted.includes(a));
  const medians = new Map<Architecture, { wall: number; cpu: number }>();
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
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
