/**
 * A linear probe: L2-regularized logistic regression on stored feature vectors, the classifier
 * of an action a user teaches. Small on purpose: the features come from models trained on
 * millions of clips; a few examples then pick a direction in their space.
 *
 * Objective (minimized with L-BFGS): the class-balanced mean log loss plus lambda/2 |w|^2 (the bias
 * is not penalized). Balancing weighs each class as a whole equally, so ten positive windows
 * against a thousand negative ones still count. Features are normalized to length 1 first (as the
 * vector index stores them), so one lambda fits every model's features.
 */
import { VidxError } from '../errors.ts';
import { normalized } from '../vectors/port.ts';

export const DEFAULT_LAMBDA = 1e-2;
const MAX_ITERATIONS = 200;
const HISTORY = 8;
const TOLERANCE = 1e-6;

export interface Example {
  vector: Float32Array;
  positive: boolean;
}

export interface LinearProbe {
  weights: Float32Array;
  bias: number;
  lambda: number;
}

export interface FitReport {
  iterations: number;
  loss: number;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** The probe's probability that a vector shows the action. */
export function probability(probe: LinearProbe, vector: Float32Array): number {
  const w = probe.weights;
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i]!;
    dot += w[i]! * x;
    norm += x * x;
  }
  return sigmoid(probe.bias + (norm === 0 ? 0 : dot / Math.sqrt(norm)));
}

function checkExamples(examples: readonly Example[]): number {
  const positives = examples.filter((e) => e.positive).length;
  const negatives = examples.length - positives;
  if (positives < 1 || negatives < 1) {
    throw new VidxError('TEACH_TOO_FEW_EXAMPLES', `a probe needs positive and negative examples: got ${positives} positive and ${negatives} negative vectors`);
  }
  const d = examples[0]!.vector.length;
  if (examples.some((e) => e.vector.length !== d)) {
    throw new VidxError('VECTOR_DIMENSION_MISMATCH', 'the examples\' feature vectors differ in length (videos indexed with different models?)', {
      hint: 're-index the videos with one model, or pick examples indexed with the same model',
    });
  }
  return d;
}

/** Fits a probe to the examples. Deterministic: the same examples give the same probe. */
export function fitLinearProbe(examples: readonly Example[], lambda = DEFAULT_LAMBDA): { probe: LinearProbe; report: FitReport } {
  const d = checkExamples(examples);
  const xs = examples.map((e) => normalized(e.vector));
  const ys = examples.map((e) => (e.positive ? 1 : 0));
  const positives = ys.filter((y) => y === 1).length;
  const weightOf = (y: number) => 0.5 / (y === 1 ? positives : ys.length - positives);

  // Parameters: d weights then the bias.
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let n = 0; n < xs.length; n++) {
      const x = xs[n]!;
      let z = theta[d]!;
      for (let i = 0; i < d; i++) z += theta[i]! * x[i]!;
      const y = ys[n]!;
      const c = weightOf(y);
      // log(1 + e^-z) for y = 1, log(1 + e^z) for y = 0, computed without overflow.
      const m = y === 1 ? -z : z;
      loss += c * (m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m)));
      const r = c * (sigmoid(z) - y);
      for (let i = 0; i < d; i++) grad[i]! += r * x[i]!;
      grad[d]! += r;
    }
    for (let i = 0; i < d; i++) {
      loss += 0.5 * lambda * theta[i]! ** 2;
      grad[i]! += lambda * theta[i]!;
    }
    return loss;
  };

  const { theta, iterations, value } = minimizeLbfgs(evaluate, d + 1);
  return { probe: { weights: Float32Array.from(theta.subarray(0, d)), bias: theta[d]!, lambda }, report: { iterations, loss: value } };
}

export interface CrossValidation {
  folds: number;
  /** Share of held-out examples classified right at probability 0.5. */
  accuracy: number;
  /** The mean of the accuracy on positives and on negatives (fair when classes are unbalanced). */
  balancedAccuracy: number;
  heldOut: number;
}

/**
 * Stratified k-fold cross-validation: each example is held out once, classified by a probe fitted
 * on the others. `groups` keeps examples of one group (one marked moment's windows) in one fold, so
 * neighbouring windows of a held-out moment do not leak into training.
 */
export function crossValidate(examples: readonly Example[], options: { folds?: number; lambda?: number; groups?: readonly string[] } = {}): CrossValidation {
  checkExamples(examples);
  const groups = options.groups ?? examples.map((_, i) => String(i));
  const byGroup = new Map<string, number[]>();
  groups.forEach((g, i) => byGroup.set(g, [...(byGroup.get(g) ?? []), i]));
  const positiveGroups = [...byGroup.values()].filter((idx) => examples[idx[0]!]!.positive);
  const negativeGroups = [...byGroup.values()].filter((idx) => !examples[idx[0]!]!.positive);
  const folds = Math.min(options.folds ?? 5, positiveGroups.length, negativeGroups.length);
  if (folds < 2) {
    throw new VidxError('TEACH_TOO_FEW_EXAMPLES', `cross-validation needs at least two positive and two negative examples: got ${positiveGroups.length} and ${negativeGroups.length}`);
  }
  const foldOf = new Map<number, number>();
  [positiveGroups, negativeGroups].forEach((list) => list.forEach((idx, k) => idx.forEach((i) => foldOf.set(i, k % folds))));

  let right = 0;
  const rightByClass = [0, 0];
  const countByClass = [0, 0];
  for (let f = 0; f < folds; f++) {
    const train = examples.filter((_, i) => foldOf.get(i) !== f);
    const test = examples.filter((_, i) => foldOf.get(i) === f);
    const { probe } = fitLinearProbe(train, options.lambda);
    for (const e of test) {
      const ok = probability(probe, e.vector) >= 0.5 === e.positive;
      const cls = e.positive ? 1 : 0;
      countByClass[cls]!++;
      if (ok) {
        right++;
        rightByClass[cls]!++;
      }
    }
  }
  const heldOut = examples.length;
  return {
    folds,
    accuracy: right / heldOut,
    balancedAccuracy: (rightByClass[0]! / countByClass[0]! + rightByClass[1]! / countByClass[1]!) / 2,
    heldOut,
  };
}

/** L-BFGS with a backtracking (Armijo) line search, for smooth convex objectives. */
function minimizeLbfgs(f: (theta: Float64Array, grad: Float64Array) => number, size: number): { theta: Float64Array; iterations: number; value: number } {
  let theta = new Float64Array(size);
  let grad = new Float64Array(size);
  let value = f(theta, grad);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);
  let iterations = 0;
  for (; iterations < MAX_ITERATIONS; iterations++) {
    if (Math.sqrt(dot(grad, grad)) < TOLERANCE) break;
    // Two-loop recursion: direction = -H grad.
    const q = Float64Array.from(grad);
    const alphas: number[] = [];
    for (let k = s.length - 1; k >= 0; k--) {
      const a = dot(s[k]!, q) / dot(y[k]!, s[k]!);
      alphas[k] = a;
      for (let i = 0; i < size; i++) q[i]! -= a * y[k]![i]!;
    }
    if (s.length > 0) {
      const last = s.length - 1;
      const gamma = dot(s[last]!, y[last]!) / dot(y[last]!, y[last]!);
      for (let i = 0; i < size; i++) q[i]! *= gamma;
    }
    for (let k = 0; k < s.length; k++) {
      const b = dot(y[k]!, q) / dot(y[k]!, s[k]!);
      for (let i = 0; i < size; i++) q[i]! += s[k]![i]! * (alphas[k]! - b);
    }
    const direction = q.map((v) => -v);
    const slope = dot(grad, direction);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      s.length = 0;
      y.length = 0;
      continue;
    }
    let step = 1;
    const next = new Float64Array(size);
    const nextGrad = new Float64Array(size);
    let nextValue = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < size; i++) next[i] = theta[i]! + step * direction[i]!;
      nextValue = f(next, nextGrad);
      if (nextValue <= value + 1e-4 * step * slope) break;
      step /= 2;
    }
    const sk = next.map((v, i) => v - theta[i]!);
    const yk = nextGrad.map((v, i) => v - grad[i]!);
    const improvement = value - nextValue;
    theta = next;
    grad = nextGrad;
    value = nextValue;
    if (dot(sk, yk) > 1e-12) {
      s.push(sk);
      y.push(yk);
      if (s.length > HISTORY) {
        s.shift();
        y.shift();
      }
    }
    if (improvement >= 0 && improvement < TOLERANCE * Math.max(1, Math.abs(value))) break;
  }
  return { theta, iterations, value };
}
