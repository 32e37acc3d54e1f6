import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { LOGITS, OPSET, layoutOf } from '../../models/arch/index.ts';
import { OnnxSink } from '../../models/arch/onnx-sink.ts';
import { checkStateDict } from '../../models/arch/state-check.ts';
import { relativePositionIndex } from '../../models/arch/tps-shifts.ts';
import { tpsSwinTiny } from '../../models/arch/tps-swin-tiny.ts';
import { OnnxGraphBuilder } from '../../models/onnx/graph-builder.ts';
import { synthesizeLayout, syntheticInput } from '../../models/synthetic.ts';
import type { StateDict } from '../../models/tensor.ts';
import { loadStateDict, writeCheckpoint } from '../../models/torch/index.ts';
import { readSeedGolden } from './golden.ts';

const golden = readSeedGolden().tps_swin_tiny!;

function buildTps(sd: StateDict): Uint8Array {
  checkStateDict('tps_swin_tiny', sd, layoutOf(tpsSwinTiny).keys);
  const graph = new OnnxGraphBuilder();
  tpsSwinTiny.walk(new OnnxSink(graph, sd));
  return graph.encode({ opset: OPSET, producer: 'vidx' });
}

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

describe('tps_swin_tiny built from the synthetic state dict', () => {
  let sd: StateDict;
  let model: Uint8Array;
  let logits: Float32Array;
  let workDir: string;

  beforeAll(async () => {
    sd = synthesizeLayout(layoutOf(tpsSwinTiny));
    model = buildTps(sd);
    const run = await runLogits(model);
    logits = run.logits;
    console.log(`tps_swin_tiny: one window [1,3,32,224,224] in ${run.seconds.toFixed(2)} s (onnxruntime-node CPU, 2 threads)`);
    workDir = await mkdtemp(join(tmpdir(), 'vidx-tps-parity-'));
  }, 600_000);

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('has the state-dict layout mmaction saves for the TPS recognizer: same names, order and shapes', () => {
    expect(layoutOf(tpsSwinTiny).keys).toEqual(golden.keys);
  });

  it('declares the golden input', () => {
    const declared = tpsSwinTiny.inputs.map((i) => [i.name, [1, 3, i.frames, i.size, i.size]]);
    expect(declared).toEqual(Object.entries(golden.inputs));
  });

  it('carries the constructed relative-position index buffers as int64, not synthetic floats', () => {
    const index = sd.get('backbone.layers.2.blocks.3.attn.relative_position_index');
    const old = sd.get('backbone.layers.2.blocks.3.attn.relative_position_index_old');
    expect(index?.dtype).toBe('int64');
    expect(old?.dtype).toBe('int64');
    expect(Buffer.from((index!.data as BigInt64Array).buffer).equals(Buffer.from(relativePositionIndex(true).buffer))).toBe(true);
    expect(Buffer.from((old!.data as BigInt64Array).buffer).equals(Buffer.from(relativePositionIndex(false).buffer))).toBe(true);
  });

  it('gives the logits of MartinXM/TPS SwinTransformer2D_TPS + I3DHead (max |diff| < 1e-3)', () => {
    expect(logits.length).toBe(golden.logits.length);
    const diff = maxAbsDiff(logits, golden.logits);
    console.log(`tps_swin_tiny: max |logit - golden| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-3);
  });

  it('refuses a checkpoint whose relative-position index points outside the bias table', () => {
    const name = 'backbone.layers.0.blocks.0.attn.relative_position_index_old';
    const broken = new Map(sd);
    const values = relativePositionIndex(false);
    values[5] = 5239n;
    broken.set(name, { dtype: 'int64', shape: [16, 49, 49], data: values });
    expect(() => buildTps(broken)).toThrow(expect.objectContaining({ code: 'MODEL_STATE_MISMATCH', message: expect.stringContaining(name) }));
  });

  it('gives the same ONNX bytes when the state dict (int64 buffers included) goes through a checkpoint', async () => {
    const path = join(workDir, 'tps_swin_tiny.pth');
    await writeCheckpoint(path, sd, { format: 'zip', extra: { meta: { epoch: 30 } } });
    const fromCheckpoint = buildTps(await loadStateDict(path));
    expect(Buffer.from(fromCheckpoint).equals(Buffer.from(model))).toBe(true);
  }, 120_000);
});
