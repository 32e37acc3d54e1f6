import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { INPUTS, LOGITS, buildOnnx, expectedKeys } from '../../models/arch/index.ts';
import { relativePositionIndex } from '../../models/arch/tps-shifts.ts';
import { synthesize } from '../../models/convert.ts';
import { synthesizeStateDict, syntheticInput } from '../../models/synthetic.ts';
import type { StateDict } from '../../models/tensor.ts';
import { loadStateDict, writeCheckpoint } from '../../models/torch/index.ts';
import { readSeedGolden } from './golden.ts';

const ARCH = 'tps_swin_tiny';
const golden = readSeedGolden()[ARCH];

async function runLogits(model: Uint8Array): Promise<{ logits: Float32Array; seconds: number }> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
  try {
    const shape = golden.inputs.video!;
    const started = performance.now();
    const result = await session.run({ video: new ort.Tensor('float32', syntheticInput('video', shape), shape) });
    const seconds = (performance.now() - started) / 1000;
    const logits = result[LOGITS];
    if (logits === undefined) throw new Error(`model has no ${LOGITS} output`);
    expect(logits.dims).toEqual([1, 400]);
    return { logits: logits.data as Float32Array, seconds };
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('tps_swin_tiny synthesized (models synthesize) from the synthetic state dict', () => {
  let sd: StateDict;
  let model: Uint8Array;
  let logits: Float32Array;
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'vidx-tps-parity-'));
    sd = synthesizeStateDict(ARCH);
    const pair = await synthesize(ARCH, workDir);
    expect(pair.onnxPath).toBe(join(workDir, `${ARCH}.onnx`));
    expect(pair.manifestPath).toBe(join(workDir, `${ARCH}.json`));
    model = await readFile(pair.onnxPath);
    const run = await runLogits(model);
    logits = run.logits;
    console.log(`${ARCH}: one window [1,3,32,224,224] in ${run.seconds.toFixed(2)} s (onnxruntime-node CPU, 2 threads)`);
  }, 600_000);

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('has the state-dict layout mmaction saves for the TPS recognizer: same names, order and shapes', () => {
    expect(expectedKeys(ARCH)).toEqual(golden.keys);
  });

  it('declares the golden input', () => {
    expect(INPUTS[ARCH].map((i) => [i.name, [1, 3, i.frames, i.size, i.size]])).toEqual(Object.entries(golden.inputs));
  });

  it('carries the constructed relative-position index buffers as int64, not synthetic floats', () => {
    const index = sd.get('backbone.layers.2.blocks.3.attn.relative_position_index');
    const old = sd.get('backbone.layers.2.blocks.3.attn.relative_position_index_old');
    expect(index?.dtype).toBe('int64');
    expect(old?.dtype).toBe('int64');
    expect(sameBytes(index!.data, relativePositionIndex(true))).toBe(true);
    expect(sameBytes(old!.data, relativePositionIndex(false))).toBe(true);
  });

  it('gives the logits of MartinXM/TPS SwinTransformer2D_TPS + I3DHead (max |diff| < 1e-3)', () => {
    expect(logits.length).toBe(golden.logits.length);
    const diff = maxAbsDiff(logits, golden.logits as number[]);
    console.log(`${ARCH}: max |logit - golden| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-3);
  });

  it('refuses a checkpoint whose relative-position index points outside the bias table', () => {
    const name = 'backbone.layers.0.blocks.0.attn.relative_position_index_old';
    const broken = new Map(sd);
    const values = relativePositionIndex(false);
    values[5] = 5239n;
    broken.set(name, { dtype: 'int64', shape: [16, 49, 49], data: values });
    expect(() => buildOnnx(ARCH, broken)).toThrow(expect.objectContaining({ code: 'MODEL_STATE_MISMATCH', message: expect.stringContaining(name) }));
  });

  it('gives the same ONNX bytes when the state dict (int64 buffers included) goes through a checkpoint', async () => {
    const path = join(workDir, `${ARCH}.pth`);
    await writeCheckpoint(path, sd, { format: 'zip', extra: { meta: { epoch: 30 } } });
    const fromCheckpoint = buildOnnx(ARCH, await loadStateDict(path));
    expect(sameBytes(fromCheckpoint, model)).toBe(true);
  }, 120_000);
});
