import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { ARCHITECTURES } from '../../core/model/manifest.ts';
import type { Architecture } from '../../core/model/manifest.ts';
import { INPUTS, LOGITS, buildOnnx, expectedKeys } from '../../models/arch/index.ts';
import { synthesizeStateDict, syntheticInput } from '../../models/synthetic.ts';
import { readGolden } from './golden.ts';

const golden = readGolden();

async function runLogits(arch: Architecture, model: Uint8Array): Promise<Float32Array> {
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
    if (logits === undefined) throw new Error(`model has no ${LOGITS} output`);
    expect(logits.dims).toEqual([1, 400]);
    return logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe.each(ARCHITECTURES)('%s built from the synthetic state dict', (arch) => {
  let logits: Float32Array;

  beforeAll(async () => {
    logits = await runLogits(arch, buildOnnx(arch, synthesizeStateDict(arch)));
  }, 300_000);

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
});
