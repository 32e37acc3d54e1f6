/**
 * The other seed papers' models (I3D Inception-V1, MARS) against the canonical PyTorch models of
 * ../shared/reference/seed_models_golden.json: same state-dict layout, same logits. (Their released
 * checkpoint forms are converted through the CLI in test/cli/models-seed.test.ts.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { INPUTS, LOGITS, LOGITS_PER_TIME, buildOnnx, expectedKeys } from '../../models/arch/index.ts';
import { tfSamePadding } from '../../models/arch/i3d-inception-v1.ts';
import { unwrapDataParallel } from '../../models/data-parallel.ts';
import { synthesizeStateDict, syntheticInput } from '../../models/synthetic.ts';
import type { StateDict } from '../../models/tensor.ts';
import { clipLogits, readSeedGolden, type SeedArchitecture } from './golden.ts';

const golden = readSeedGolden();

async function run(model: Uint8Array, arch: SeedArchitecture): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, shape] of Object.entries(golden[arch].inputs)) feeds[name] = new ort.Tensor('float32', syntheticInput(name, shape), shape);
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe.each(['i3d_inception_v1', 'mars_resnext101'] as const)('%s built from the synthetic state dict', (arch) => {
  let sd: StateDict;
  let model: Uint8Array;
  let outputs: Record<string, ort.Tensor>;

  beforeAll(async () => {
    sd = synthesizeStateDict(arch);
    model = buildOnnx(arch, sd);
    outputs = await run(model, arch);
  }, 300_000);

  it('has the state-dict layout of the canonical model: same names, order and shapes', () => {
    expect(expectedKeys(arch)).toEqual(golden[arch].keys);
  });

  it('takes the golden input, named video', () => {
    expect(INPUTS[arch].map((i) => [i.name, [1, 3, i.frames, i.size, i.size]])).toEqual(Object.entries(golden[arch].inputs));
  });

  it('gives the logits of the canonical model (max |diff| < 1e-3); for I3D the clip score is the mean over time', () => {
    const logits = outputs[LOGITS]!;
    expect(logits.dims).toEqual([1, 400]);
    const diff = maxAbsDiff(logits.data as Float32Array, clipLogits(golden[arch]));
    console.log(`${arch}: max |logit - golden| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-3);
  });

  it.runIf(arch === 'i3d_inception_v1')('exposes the per-time logits [N, 400, 7] equal to the canonical model output', () => {
    const perTime = outputs[LOGITS_PER_TIME]!;
    expect(perTime.dims).toEqual(golden[arch].outputShape);
    const diff = maxAbsDiff(perTime.data as Float32Array, (golden[arch].logits as number[][]).flat());
    console.log(`${arch}: max |per-time logit - golden| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-3);
  });
});

describe('unwrapDataParallel', () => {
  const t = { dtype: 'float32' as const, shape: [1], data: new Float32Array(1) };

  it('drops module. when every key carries it, keeping the order', () => {
    const sd: StateDict = new Map([
      ['module.conv1.weight', t],
      ['module.fc.bias', t],
    ]);
    expect([...unwrapDataParallel(sd).keys()]).toEqual(['conv1.weight', 'fc.bias']);
  });

  it('leaves a dict alone when only some keys carry it (the strict check then names them)', () => {
    const sd: StateDict = new Map([
      ['module.conv1.weight', t],
      ['fc.bias', t],
    ]);
    expect(unwrapDataParallel(sd)).toBe(sd);
  });
});

describe('tfSamePadding (TensorFlow "SAME", as pytorch-i3d computes it)', () => {
  it('pads k - s in total when the stride divides the size, the odd one at the end', () => {
    // Conv3d_1a_7x7 on 64x224x224: total 5 per axis -> 2 before, 3 after; output 32x112x112.
    expect(tfSamePadding([64, 224, 224], [7, 7, 7], [2, 2, 2])).toEqual({ padding: { begin: [2, 2, 2], end: [3, 3, 3] }, out: [32, 112, 112] });
  });

  it('pads k - size % s otherwise, and nothing for a 1x1x1 kernel', () => {
    // MaxPool3d_5a_2x2 on 15x15x15 (odd): total 2 - 1 = 1 -> 0 before, 1 after; output 8.
    expect(tfSamePadding([15, 15, 15], [2, 2, 2], [2, 2, 2])).toEqual({ padding: { begin: [0, 0, 0], end: [1, 1, 1] }, out: [8, 8, 8] });
    expect(tfSamePadding([8, 7, 7], [1, 1, 1], [1, 1, 1])).toEqual({ padding: { begin: [0, 0, 0], end: [0, 0, 0] }, out: [8, 7, 7] });
  });
});
