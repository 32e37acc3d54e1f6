/**
 * Checkpoint reading: time and peak memory of loadStateDict on a full-size (SlowFast R50-like,
 * ~34M float32 parameters, ~136 MB) checkpoint written by our own writer, in the zip and legacy
 * formats, and on a ~270 MB file that also holds optimizer momentum (as official .pyth files do).
 * Each load runs in a fresh child process so its peak RSS is the reader's alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StateDict, Tensor } from '../models/tensor.ts';
import { loadStateDict, writeCheckpoint } from '../models/torch/index.ts';
import { peakRssMB } from './rss.ts';

const MEASURE_ENV = 'VIDX_CHECKPOINT_BENCH_FILE';
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const MB = 1024 * 1024;

/** Parameter shapes laid out like SlowFast R50 (slow + fast ResNet-50 pathways, fusions, head). */
function slowFastLikeShapes(): [string, number[]][] {
  const shapes: [string, number[]][] = [];
  const convBn = (name: string, shape: number[]): void => {
    shapes.push([`${name}.conv.weight`, shape]);
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) shapes.push([`${name}.norm.${p}`, [shape[0] as number]]);
    shapes.push([`${name}.norm.num_batches_tracked`, []]);
  };
  const widths = [64, 128, 256, 512];
  const depths = [3, 4, 6, 3];
  const pathways = [
    { id: 0, scale: 1, stem: [64, 3, 1, 7, 7], temporal: [1, 1, 3, 3] },
    { id: 1, scale: 8, stem: [8, 3, 5, 7, 7], temporal: [3, 3, 3, 3] },
  ];
  for (const p of pathways) convBn(`blocks.0.multipathway_blocks.${p.id}`, p.stem);
  let inSlow = 64 + 16;
  let inFast = 8;
  widths.forEach((w, s) => {
    for (const p of pathways) {
      const width = w / p.scale;
      const out = (w * 4) / p.scale;
      let inC = p.id === 0 ? inSlow : inFast;
      for (let b = 0; b < (depths[s] as number); b++) {
        const name = `blocks.${s + 1}.multipathway_blocks.${p.id}.res_blocks.${b}`;
        if (b === 0) convBn(`${name}.branch1`, [out, inC, 1, 1, 1]);
        convBn(`${name}.branch2.a`, [width, inC, p.temporal[s] as number, 1, 1]);
        convBn(`${name}.branch2.b`, [width, width, 1, 3, 3]);
        convBn(`${name}.branch2.c`, [out, width, 1, 1, 1]);
        inC = out;
      }
    }
    const fastOut = (w * 4) / 8;
    convBn(`blocks.${s + 1}.multipathway_fusion`, [fastOut * 2, fastOut, 7, 1, 1]);
    inSlow = w * 4 + fastOut * 2;
    inFast = fastOut;
  });
  shapes.push(['blocks.6.proj.weight', [400, 2304]], ['blocks.6.proj.bias', [400]]);
  return shapes;
}

function syntheticStateDict(shapes: [string, number[]][]): StateDict {
  const state: StateDict = new Map();
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (name.endsWith('num_batches_tracked')) {
      state.set(name, { dtype: 'int64', shape, data: new BigInt64Array([1000n]) });
      continue;
    }
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
    state.set(name, { dtype: 'float32', shape, data });
  }
  return state;
}

interface Measurement {
  seconds: number;
  tensors: number;
  parameters: number;
  baselineRssMB: number;
  peakRssMB: number;
  maxRssMB: number;
}

/** Child side: load one file and report time and peak RSS as JSON. */
async function measure(file: string): Promise<void> {
  const baselineRssMB = peakRssMB();
  const started = performance.now();
  const state = await loadStateDict(file);
  const seconds = (performance.now() - started) / 1000;
  let parameters = 0;
  for (const t of state.values()) parameters += t.data.length;
  const result: Measurement = { seconds, tensors: state.size, parameters, baselineRssMB, peakRssMB: peakRssMB(), maxRssMB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function measureInChild(file: string): Measurement {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    cwd: repoRoot,
    env: { ...process.env, [MEASURE_ENV]: file },
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`measuring ${file} failed (exit ${child.status}): ${child.stderr}`);
  const line = child.stdout.trim().split('\n').pop() as string;
  return JSON.parse(line) as Measurement;
}

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vidx-checkpoint-bench-'));
  try {
    const shapes = slowFastLikeShapes();
    const state = syntheticStateDict(shapes);
    const parameters = [...state.values()].reduce((sum, t) => sum + t.data.length, 0);
    const momentum = new Map<number, Map<string, Tensor>>();
    [...state.values()].forEach((t, i) => {
      if (t.dtype === 'float32') momentum.set(i, new Map([['momentum_buffer', { ...t, data: new Float32Array(t.data as Float32Array) }]]));
    });
    const cfg = 'MODEL:\n  ARCH: slowfast\n  NUM_CLASSES: 400\n';
    const files = [
      { label: 'zip, model_state only', path: join(dir, 'model.zip.pyth'), format: 'zip' as const, extra: { epoch: 196, cfg } },
      { label: 'legacy, model_state only', path: join(dir, 'model.legacy.pyth'), format: 'legacy' as const, extra: { epoch: 196, cfg } },
      {
        label: 'zip, + optimizer momentum',
        path: join(dir, 'full.zip.pyth'),
        format: 'zip' as const,
        extra: { epoch: 196, cfg, optimizer_state: { state: momentum, param_groups: [{ lr: 0.1, momentum: 0.9, params: [...momentum.keys()] }] } },
      },
    ];
    console.log(`synthetic SlowFast R50-like state dict: ${state.size} tensors, ${(parameters / 1e6).toFixed(1)}M parameters`);
    for (const f of files) {
      const started = performance.now();
      await writeCheckpoint(f.path, state, { format: f.format, extra: f.extra });
      const size = (await stat(f.path)).size;
      console.log(`write ${f.label}: ${(size / MB).toFixed(0)} MB in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    }
    for (const f of files) {
      const size = (await stat(f.path)).size;
      const m = measureInChild(f.path);
      if (m.parameters !== parameters) throw new Error(`${f.label}: read ${m.parameters} parameters, wrote ${parameters}`);
      console.log(
        `loadStateDict ${f.label} (${(size / MB).toFixed(0)} MB file, ${(m.parameters * 4 / MB).toFixed(0)} MB of tensors): ` +
          `${m.seconds.toFixed(2)} s, peak RSS ${m.peakRssMB.toFixed(0)} MB (process baseline ${m.baselineRssMB.toFixed(0)} MB, +${(m.peakRssMB - m.baselineRssMB).toFixed(0)} MB; ru_maxrss ${m.maxRssMB.toFixed(0)} MB)`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const measuredFile = process.env[MEASURE_ENV];
if (measuredFile !== undefined) await measure(measuredFile);
