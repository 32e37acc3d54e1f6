import { describe, expect, it } from 'vitest';
import { expectedKeys } from '../../models/arch/index.ts';
import { fnv1a32, synthesizeStateDict, synthesizeTensor, syntheticInput } from '../../models/synthetic.ts';

function range(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]!);
    max = Math.max(max, values[i]!);
  }
  return [min, max];
}

const U32 = (1n << 32n) - 1n;

/** v(name, i) exactly as ../shared/reference/README.md states it, on BigInt. */
function referenceV(name: string, i: number): number {
  let h = 0x811c9dc5n;
  for (const b of Buffer.from(name, 'utf8')) h = ((h ^ BigInt(b)) * 0x01000193n) & U32;
  let x = (h + BigInt(i) * 0x9e3779b9n) & U32;
  x ^= x >> 16n;
  x = (x * 0x85ebca6bn) & U32;
  x ^= x >> 13n;
  x = (x * 0xc2b2ae35n) & U32;
  x ^= x >> 16n;
  return 2 * (Number(x) / 2 ** 32) - 1;
}

describe('the synthetic rule', () => {
  it('seeds with FNV-1a 32-bit over UTF-8 bytes', () => {
    // Published FNV-1a test vectors.
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('fills each kind of tensor in its documented range', () => {
    expect(range(synthesizeTensor('x.running_var', [4096]).data as Float32Array)).toSatisfy(([lo, hi]: number[]) => lo! >= 1 && hi! < 1.5 && hi! - lo! > 0.45);
    expect(range(synthesizeTensor('x.running_mean', [4096]).data as Float32Array)).toSatisfy(([lo, hi]: number[]) => lo! >= -0.1 && hi! <= 0.1 && hi! - lo! > 0.18);
    expect(range(synthesizeTensor('x.norm.weight', [4096]).data as Float32Array)).toSatisfy(([lo, hi]: number[]) => lo! >= 0.9 && hi! <= 1.1);
    expect(range(synthesizeTensor('x.proj.bias', [4096]).data as Float32Array)).toSatisfy(([lo, hi]: number[]) => lo! >= -0.1 && hi! <= 0.1);
    // Conv weight [8, 3, 1, 1, 1]: fan_in 3, so values in [-1, 1).
    const conv = synthesizeTensor('x.conv.weight', [8, 3, 1, 1, 1]).data as Float32Array;
    expect(range(conv)).toSatisfy(([lo, hi]: number[]) => lo! >= -1 && hi! < 1 && lo! < -0.2 && hi! > 0.2);
  });

  it('leaves num_batches_tracked as an int64 zero scalar', () => {
    expect(synthesizeTensor('a.norm.num_batches_tracked', [])).toEqual({ dtype: 'int64', shape: [], data: new BigInt64Array(1) });
  });

  it('matches the README rule computed independently with BigInt arithmetic', () => {
    expect(syntheticInput('video', [2, 3])).toEqual(Float32Array.from({ length: 6 }, (_, i) => 0.5 * referenceV('input:video', i)));
    const conv = synthesizeTensor('blocks.0.conv.weight', [64, 3, 5, 7, 7]).data as Float32Array;
    for (const i of [0, 1, 734, 47039]) expect(conv[i]).toBe(Math.fround(referenceV('blocks.0.conv.weight', i) * Math.sqrt(3 / 735)));
  });

  it('depends on the name', () => {
    expect(synthesizeTensor('a.bias', [8]).data).not.toEqual(synthesizeTensor('b.bias', [8]).data);
    expect(syntheticInput('slow', [16])).not.toEqual(syntheticInput('fast', [16]));
    expect(range(syntheticInput('video', [4096]))).toSatisfy(([lo, hi]: number[]) => lo! >= -0.5 && hi! < 0.5);
  });

  it('fills every key of the architecture, in order, with its shape', () => {
    const sd = synthesizeStateDict('slowfast_r50');
    expect([...sd].map(([name, t]) => [name, t.shape])).toEqual(expectedKeys('slowfast_r50'));
  });
});
