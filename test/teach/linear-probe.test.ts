import { describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { crossValidate, fitLinearProbe, probability, type Example } from '../../core/teach/linear-probe.ts';
import { vectorOf } from '../vectors/contract.ts';

/** Two clouds in 32 dimensions around opposite-ish centres, with per-example noise. */
function clouds(positives: number, negatives: number, spread = 0.6): Example[] {
  const centreA = vectorOf(1, 32);
  const centreB = vectorOf(2, 32);
  const make = (centre: Float32Array, n: number, positive: boolean, seed: number) =>
    Array.from({ length: n }, (_, i) => ({ vector: centre.map((c, j) => c + spread * vectorOf(seed + i, 32)[j]!), positive }));
  return [...make(centreA, positives, true, 100), ...make(centreB, negatives, false, 10_000)];
}

describe('a linear probe (L2-regularized, class-balanced logistic regression)', () => {
  it('separates two clouds: every training example on its side of 0.5', () => {
    const examples = clouds(20, 20);
    const { probe } = fitLinearProbe(examples);
    for (const e of examples) expect(probability(probe, e.vector) >= 0.5).toBe(e.positive);
  });

  it('finds the symmetric answer on symmetric data: no bias, weight only along the axis', () => {
    const axis = (sign: number) => Float32Array.from({ length: 4 }, (_, i) => (i === 0 ? sign : 0));
    const { probe } = fitLinearProbe([{ vector: axis(1), positive: true }, { vector: axis(-1), positive: false }]);
    expect(probe.bias).toBeCloseTo(0, 6);
    expect(probe.weights[0]).toBeGreaterThan(1);
    expect(Array.from(probe.weights.subarray(1))).toEqual([0, 0, 0]);
  });

  it('still finds the rare class when negatives outnumber positives 40 to 1', () => {
    const examples = clouds(5, 200);
    const { probe } = fitLinearProbe(examples);
    const positives = examples.filter((e) => e.positive);
    expect(positives.every((e) => probability(probe, e.vector) > 0.5)).toBe(true);
  });

  it('gives the same probe for the same examples', () => {
    const a = fitLinearProbe(clouds(8, 8)).probe;
    const b = fitLinearProbe(clouds(8, 8)).probe;
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
    expect(a.bias).toBe(b.bias);
  });

  it('refuses a class with no example, and vectors of different lengths', () => {
    const only = clouds(3, 0);
    expect(() => fitLinearProbe(only)).toThrow(expect.objectContaining({ code: 'TEACH_TOO_FEW_EXAMPLES' }));
    const mixed: Example[] = [{ vector: vectorOf(1, 4), positive: true }, { vector: vectorOf(2, 8), positive: false }];
    let caught: unknown;
    try {
      fitLinearProbe(mixed);
    } catch (e) {
      caught = e;
    }
    expect(isVidxError(caught, 'VECTOR_DIMENSION_MISMATCH')).toBe(true);
  });
});

describe('cross-validation of a probe', () => {
  it('scores separable examples 1.0 held out, over stratified folds', () => {
    const cv = crossValidate(clouds(10, 10));
    expect(cv).toMatchObject({ folds: 5, accuracy: 1, balancedAccuracy: 1, heldOut: 20 });
  });

  it('scores labels that mean nothing near chance', () => {
    const examples = clouds(15, 15, 0).map((e, i) => ({ vector: vectorOf(500 + i, 32), positive: e.positive }));
    const cv = crossValidate(examples);
    expect(cv.balancedAccuracy).toBeLessThan(0.8);
  });

  it('holds a group out whole, and uses no more folds than the rarer class has groups', () => {
    const examples = clouds(6, 6);
    const groups = examples.map((e, i) => `${e.positive ? 'p' : 'n'}${Math.floor((i % 6) / 2)}`);
    const cv = crossValidate(examples, { groups });
    expect(cv.folds).toBe(3);
    expect(cv.heldOut).toBe(12);
  });

  it('refuses fewer than two examples of a class', () => {
    expect(() => crossValidate(clouds(1, 5))).toThrow(expect.objectContaining({ code: 'TEACH_TOO_FEW_EXAMPLES' }));
  });
});
