/**
 * The embedded vector store (`vidx local`): insert rate and query latency at 100k and 1M vectors of
 * CLIP's 512 values, written as a worker writes them (one part per 60 s clip: 28 windows), read by
 * a fresh handle (another process's view: every file loaded), then queried warm. Also the linear
 * probe: training time on 2304-value features and re-scoring time per stored vector.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalVectorIndex } from '../adapters/local-vectors.ts';
import { fitLinearProbe, probability, type Example } from '../core/teach/linear-probe.ts';
import type { MomentVector } from '../core/vectors/port.ts';

const DIMENSION = 512;
const WINDOWS_PER_PART = 28;
const PARTS_PER_VIDEO = 60;

function randomVector(seed: number, dimension = DIMENSION): Float32Array {
  const v = new Float32Array(dimension);
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < dimension; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    v[i] = x / 2 ** 32 - 0.5;
  }
  return v;
}

async function storeFigures(total: number): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'vidx-bench-vectors-'));
  try {
    const writer = new LocalVectorIndex(root);
    const parts = Math.ceil(total / WINDOWS_PER_PART);
    let seed = 0;
    const started = performance.now();
    for (let p = 0; p < parts; p++) {
      const videoId = `video-${Math.floor(p / PARTS_PER_VIDEO)}`;
      const part = p % PARTS_PER_VIDEO;
      const vectors: MomentVector[] = Array.from({ length: WINDOWS_PER_PART }, (_, w) => ({
        moment: { videoId, revision: 'r1', kind: 'window', start: part * 60 + w * 2.13, end: part * 60 + (w + 1) * 2.13 },
        vector: randomVector(seed++),
      }));
      await writer.putPart('window.clip', { videoId, revision: 'r1', part }, vectors);
    }
    const insertS = (performance.now() - started) / 1000;
    const reader = new LocalVectorIndex(root);
    const loadStarted = performance.now();
    await reader.search('window.clip', { vector: randomVector(-1), limit: 10 });
    const loadS = (performance.now() - loadStarted) / 1000;
    const runs = 10;
    const queryStarted = performance.now();
    for (let q = 0; q < runs; q++) await reader.search('window.clip', { vector: randomVector(-2 - q), limit: 50 });
    const queryMs = (performance.now() - queryStarted) / runs;
    const rss = process.memoryUsage().rss / 2 ** 20;
    console.log(
      `${(parts * WINDOWS_PER_PART).toLocaleString('en')} vectors x ${DIMENSION}: insert ${((parts * WINDOWS_PER_PART) / insertS).toFixed(0)} vectors/s (${insertS.toFixed(1)} s, ${parts} part files); ` +
        `first query by a fresh handle (loads every file) ${loadS.toFixed(2)} s; warm query (top 50, exact) ${queryMs.toFixed(0)} ms; RSS ${rss.toFixed(0)} MiB`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function probeFigures(): void {
  const d = 2304;
  const examples: Example[] = Array.from({ length: 400 }, (_, i) => ({ vector: randomVector(i, d).map((x, j) => x + (i % 2 === 0 && j < 64 ? 0.3 : 0)), positive: i % 2 === 0 }));
  const started = performance.now();
  const { probe, report } = fitLinearProbe(examples);
  const trainMs = performance.now() - started;
  const stored = Array.from({ length: 20_000 }, (_, i) => randomVector(10_000 + i, d));
  const scoreStarted = performance.now();
  let sum = 0;
  for (const v of stored) sum += probability(probe, v);
  const perVectorUs = ((performance.now() - scoreStarted) * 1000) / stored.length;
  // 1,000 video-hours of windows of 2.13 s (SlowFast's 32 frames at sampling rate 2, 30 fps).
  const windows = Math.round((1000 * 3600) / 2.13);
  console.log(
    `linear probe on ${d}-value features: training on ${examples.length} examples ${trainMs.toFixed(0)} ms (${report.iterations} L-BFGS iterations); ` +
      `re-scoring ${perVectorUs.toFixed(2)} µs per stored vector -> ${windows.toLocaleString('en')} windows of 1,000 video-hours in ${((windows * perVectorUs) / 1e6).toFixed(1)} s of CPU (mean p ${(sum / stored.length).toFixed(2)})`,
  );
}

export async function run(): Promise<void> {
  probeFigures();
  for (const total of [100_000, 1_000_000]) await storeFigures(total);
}
