import { beforeAll, describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { buildOnnx, expectedKeys } from '../../models/arch/index.ts';
import { synthesizeStateDict } from '../../models/synthetic.ts';
import type { StateDict, Tensor } from '../../models/tensor.ts';

function mismatchOf(build: () => unknown): string {
  try {
    build();
  } catch (e) {
    if (isVidxError(e, 'MODEL_STATE_MISMATCH')) return e.message;
    throw e;
  }
  throw new Error('expected MODEL_STATE_MISMATCH, but the model was built');
}

function withTensor(sd: StateDict, name: string, tensor: Tensor): StateDict {
  const copy = new Map(sd);
  copy.set(name, tensor);
  return copy;
}

function without(sd: StateDict, ...names: string[]): StateDict {
  const copy = new Map(sd);
  for (const name of names) copy.delete(name);
  return copy;
}

describe('buildOnnx is strict about the state dict, like load_state_dict(strict=True)', () => {
  let sd: StateDict;
  beforeAll(() => {
    sd = synthesizeStateDict('i3d_r50');
  });

  it('refuses a missing key and names it', () => {
    const message = mismatchOf(() => buildOnnx('i3d_r50', without(sd, 'blocks.6.proj.bias')));
    expect(message).toContain('1 missing (blocks.6.proj.bias)');
  });

  it('refuses a key with the wrong shape and gives both shapes', () => {
    const wrong: Tensor = { dtype: 'float32', shape: [64, 3, 3, 7, 7], data: new Float32Array(64 * 3 * 3 * 7 * 7) };
    const message = mismatchOf(() => buildOnnx('i3d_r50', withTensor(sd, 'blocks.0.conv.weight', wrong)));
    expect(message).toContain('blocks.0.conv.weight is [64, 3, 3, 7, 7], expected [64, 3, 5, 7, 7]');
  });

  it('refuses an unexpected key', () => {
    const extra: Tensor = { dtype: 'float32', shape: [1], data: new Float32Array(1) };
    const message = mismatchOf(() => buildOnnx('i3d_r50', withTensor(sd, 'blocks.7.proj.weight', extra)));
    expect(message).toContain('1 unexpected (blocks.7.proj.weight)');
  });

  it('lists only the first few offenders and counts the rest', () => {
    const names = expectedKeys('i3d_r50')
      .map(([name]) => name)
      .filter((name) => !name.endsWith('num_batches_tracked'));
    const message = mismatchOf(() => buildOnnx('i3d_r50', without(sd, ...names.slice(0, 12))));
    expect(message).toContain(`12 missing (${names.slice(0, 5).join(', ')} and 7 more)`);
  });

  it('accepts a checkpoint without num_batches_tracked (saved before PyTorch 0.4.1; eval never reads it)', () => {
    const counters = [...sd.keys()].filter((name) => name.endsWith('num_batches_tracked'));
    expect(counters.length).toBeGreaterThan(0);
    expect(Buffer.from(buildOnnx('i3d_r50', without(sd, ...counters))).equals(Buffer.from(buildOnnx('i3d_r50', sd)))).toBe(true);
  });

  it('refuses the state dict of the other architecture', () => {
    const message = mismatchOf(() => buildOnnx('slowfast_r50', sd));
    expect(message).toMatch(/missing .*unexpected/);
  });

  it('refuses integer weights', () => {
    const name = 'blocks.6.proj.bias';
    const ints: Tensor = { dtype: 'int32', shape: [400], data: new Int32Array(400) };
    expect(mismatchOf(() => buildOnnx('i3d_r50', withTensor(sd, name, ints)))).toContain(`"${name}" is int32`);
  });

  it('builds the same graph from float64 weights as from float32 ones', () => {
    const asFloat64: StateDict = new Map(
      [...sd].map(([name, t]) => [name, t.dtype === 'float32' ? { ...t, dtype: 'float64', data: Float64Array.from(t.data as Float32Array) } : t]),
    );
    expect(Buffer.from(buildOnnx('i3d_r50', asFloat64)).equals(Buffer.from(buildOnnx('i3d_r50', sd)))).toBe(true);
  });
});
