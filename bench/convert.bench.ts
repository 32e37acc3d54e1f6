/**
 * `vidx models convert` on a full-size SlowFast R50 checkpoint (the synthetic state dict written
 * by writeCheckpoint, laid out like the official SLOWFAST_8x8_R50.pyth): wall time and peak RSS
 * of convert() (read + sha256 + BatchNorm fold + ONNX encode + write) in a fresh child process
 * (`node bin/run-ts.js bench/convert.bench.ts` with VIDX_CONVERT_BENCH_FILE set).
 * Targets (issue 2): < 20 s and < 2 GB peak RSS on the 2-core box.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convert } from '../models/convert.ts';
import { synthesizeStateDict } from '../models/synthetic.ts';
import type { Tensor } from '../models/tensor.ts';
import { writeCheckpoint } from '../models/torch/index.ts';
import { peakRssMB } from './rss.ts';

const CHILD_ENV = 'VIDX_CONVERT_BENCH_FILE';
const OUT_ENV = 'VIDX_CONVERT_BENCH_OUT';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MB = 1024 * 1024;
const TARGET_SECONDS = 20;
const TARGET_MB = 2048;

interface Measurement {
  seconds: number;
  onnxMB: number;
  baselineRssMB: number;
  peakRssMB: number;
  maxRssMB: number;
}

/** Child side: convert one checkpoint, print the measurement as one JSON line. */
async function measure(checkpoint: string, outDir: string): Promise<void> {
  const baselineRssMB = peakRssMB();
  const started = performance.now();
  const pair = await convert('slowfast_r50', checkpoint, outDir);
  const seconds = (performance.now() - started) / 1000;
  const m: Measurement = { seconds, onnxMB: pair.onnxBytes / MB, baselineRssMB, peakRssMB: peakRssMB(), maxRssMB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

function measureInChild(checkpoint: string, outDir: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/run-ts.js'), fileURLToPath(import.meta.url)], {
      cwd: ROOT,
      env: { ...process.env, [CHILD_ENV]: checkpoint, [OUT_ENV]: outDir },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`convert of ${checkpoint} failed (exit ${code}): ${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as Measurement);
    });
  });
}

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vidx-convert-bench-'));
  try {
    const state = synthesizeStateDict('slowfast_r50');
    let parameters = 0;
    for (const t of state.values()) parameters += t.data.length;
    // Official .pyth files also carry the optimizer's momentum (one buffer per parameter) and cfg.
    const momentum = new Map<number, Map<string, Tensor>>();
    [...state.values()].forEach((t, i) => {
      if (t.dtype === 'float32') momentum.set(i, new Map([['momentum_buffer', { ...t, data: new Float32Array(t.data as Float32Array) }]]));
    });
    const optimizer_state = { state: momentum, param_groups: [{ lr: 0.1, momentum: 0.9, params: [...momentum.keys()] }] };
    const files = [
      { label: 'zip, model_state + optimizer momentum', path: join(dir, 'sf.zip.pyth'), format: 'zip' as const, extra: { epoch: 196, optimizer_state } },
      { label: 'legacy, model_state only', path: join(dir, 'sf.legacy.pyth'), format: 'legacy' as const, extra: { epoch: 196 } },
    ];
    console.log(`synthetic slowfast_r50 state dict: ${state.size} tensors, ${(parameters / 1e6).toFixed(1)}M values`);
    for (const f of files) await writeCheckpoint(f.path, state, { format: f.format, extra: f.extra });
    momentum.clear();
    for (const f of files) {
      const size = (await stat(f.path)).size;
      const m = await measureInChild(f.path, join(dir, `out-${f.format}`));
      const verdict = m.seconds < TARGET_SECONDS && m.peakRssMB < TARGET_MB ? 'within' : 'OVER';
      console.log(
        `convert slowfast_r50 (${f.label}, ${(size / MB).toFixed(0)} MB file -> ${m.onnxMB.toFixed(0)} MB ONNX): ${m.seconds.toFixed(2)} s, ` +
          `peak RSS ${m.peakRssMB.toFixed(0)} MB (process baseline ${m.baselineRssMB.toFixed(0)} MB; ru_maxrss ${m.maxRssMB.toFixed(0)} MB) — ` +
          `${verdict} the targets (< ${TARGET_SECONDS} s, < ${TARGET_MB} MB)`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const childFile = process.env[CHILD_ENV];
if (childFile !== undefined) await measure(childFile, process.env[OUT_ENV] ?? join(tmpdir(), 'vidx-convert-bench-out'));
