import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { FEATURES, INPUTS, LOGITS, buildOnnx, expectedKeys, featureSize } from '../../models/arch/index.ts';
import { synthesizeStateDict, syntheticInput } from '../../models/synthetic.ts';
import type { StateDict } from '../../models/tensor.ts';
import { loadStateDict, writeCheckpoint } from '../../models/torch/index.ts';
import { PYTORCHVIDEO_ARCHITECTURES, readGolden, type PyTorchVideoArchitecture } from './golden.ts';

const golden = readGolden();

async function runLogits(arch: PyTorchVideoArchitecture, model: Uint8Array): Promise<{ logits: Float32Array; features: Float32Array }> {
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 2,
    graphOptimizationLevel: 'all',
  });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, shape] of Object.entries(golden[arch].inputs)) {
      feeds[name] = new ort.Tensor('float32', syntheticInput(name, shape), shape);
    }
    const result = await session.run(feeds);
    const logits = result[LOGITS];
    const features = result[FEATURES];
    if (logits === undefined || features === undefined) throw new Error(`model lacks its ${LOGITS} or ${FEATURES} output`);
    expect(logits.dims).toEqual([1, 400]);
    expect(features.dims).toEqual([1, featureSize(arch)]);
    return { logits: logits.data as Float32Array, features: features.data as Float32Array };
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** One checkpoint format per architecture, so both of torch.save's formats are covered. */
const CHECKPOINT_FORMAT = { slowfast_r50: 'zip', i3d_r50: 'legacy' } as const;

describe.each(PYTORCHVIDEO_ARCHITECTURES)('%s built from the synthetic state dict', (arch) => {
  let sd: StateDict;
  let model: Uint8Array;
  let logits: Float32Array;
  let features: Float32Array;
  let workDir: string;

  beforeAll(async () => {
    sd = synthesizeStateDict(arch);
    model = buildOnnx(arch, sd);
    ({ logits, features } = await runLogits(arch, model));
    workDir = await mkdtemp(join(tmpdir(), 'vidx-parity-'));
  }, 300_000);

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('has the state-dict layout of the canonical model: same names, order and shapes', () => {
    expect(expectedKeys(arch)).toEqual(golden[arch].keys);
  });

  it('declares the golden inputs, in graph order', () => {
    const declared = INPUTS[arch].map((i) => [i.name, [1, 3, i.frames, i.size, i.size]]);
    expect(declared).toEqual(Object.entries(golden[arch].inputs));
  });

  it('gives the logits of the canonical PyTorchVideo model (max |diff| < 1e-3)', () => {
    const expected = golden[arch].logits;
    expect(logits.length).toBe(expected.length);
    const diff = maxAbsDiff(logits, expected);
    console.log(`${arch}: max |logit - golden| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-3);
  });

  it('outputs the pooled features its head reads: logits = W features + b', () => {
    const [weightKey, biasKey] = expectedKeys(arch).slice(-2);
    const w = sd.get(weightKey![0])!.data as Float32Array;
    const b = sd.get(biasKey![0])!.data as Float32Array;
    const size = features.length;
    const projected = Array.from(b, (bias, c) => features.reduce((sum, f, i) => sum + f * w[c * size + i]!, bias));
    expect(maxAbsDiff(projected, logits)).toBeLessThan(1e-4);
  });

  it(`gives the same ONNX bytes when the state dict goes through a ${CHECKPOINT_FORMAT[arch]} checkpoint`, async () => {
    const path = join(workDir, `${arch}.pyth`);
    await writeCheckpoint(path, sd, { format: CHECKPOINT_FORMAT[arch], extra: { epoch: 196 } });
    const fromCheckpoint = buildOnnx(arch, await loadStateDict(path));
    expect(Buffer.from(fromCheckpoint).equals(Buffer.from(model))).toBe(true);
  }, 120_000);
});
