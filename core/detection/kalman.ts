/**
 * A Kalman filter over one person box, as SORT and ByteTrack keep it: the state is the box centre
 * x, y, its aspect a = w / h and height h, and their velocities (8 values, constant-velocity
 * model, one step per keyframe); the measurement is a detector box as (x, y, a, h). Noise is
 * proportional to the box height (ByteTrack's `std_weight_position` and `std_weight_velocity`),
 * so a near, large person may move more per step than a far, small one.
 *
 * Boxes are fractions of the frame (schema.ts), so the aspect a is in those units too; it stays
 * consistent within one video, which is all the filter needs.
 */
import type { Box } from './schema.ts';

export interface KalmanNoise {
  /** Position noise per step, times the box height (ByteTrack: 1/20 per frame at 30 fps). */
  position: number;
  /** Velocity noise per step, times the box height (ByteTrack: 1/160 per frame at 30 fps). */
  velocity: number;
}

/** Mean (8) and covariance (8 x 8, row-major) of one box's state. */
export interface BoxState {
  mean: Float64Array;
  cov: Float64Array;
}

const N = 8;

export function boxToXyah(b: Box): [number, number, number, number] {
  const w = b[2] - b[0];
  const h = b[3] - b[1];
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, h > 0 ? w / h : 0, h];
}

/** (x, y, a, h) -> [x1, y1, x2, y2]; not clamped (a predicted box may leave the frame). */
export function xyahToBox(s: ArrayLike<number>): [number, number, number, number] {
  const h = Math.max(0, s[3]!);
  const w = Math.max(0, s[2]!) * h;
  return [s[0]! - w / 2, s[1]! - h / 2, s[0]! + w / 2, s[1]! + h / 2];
}

export function initiate(b: Box, noise: KalmanNoise): BoxState {
  const z = boxToXyah(b);
  const mean = new Float64Array(N);
  mean.set(z);
  const h = z[3];
  const std = [2 * noise.position * h, 2 * noise.position * h, 1e-2, 2 * noise.position * h, 10 * noise.velocity * h, 10 * noise.velocity * h, 1e-5, 10 * noise.velocity * h];
  const cov = new Float64Array(N * N);
  for (let i = 0; i < N; i++) cov[i * N + i] = std[i]! ** 2;
  return { mean, cov };
}

/** One step ahead: x += v, P = F P F' + Q. */
export function predict(s: BoxState, noise: KalmanNoise): BoxState {
  const h = s.mean[3]!;
  const mean = new Float64Array(s.mean);
  for (let i = 0; i < 4; i++) mean[i]! += s.mean[i + 4]!;
  // F P F' with F = [[I, I], [0, I]]: blocks A' = A + B + B' + D, B' = B + D, D' = D.
  const P = s.cov;
  const cov = new Float64Array(N * N);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const A = P[i * N + j]!;
      const B = P[i * N + j + 4]!;
      const C = P[(i + 4) * N + j]!;
      const D = P[(i + 4) * N + j + 4]!;
      cov[i * N + j] = A + B + C + D;
      cov[i * N + j + 4] = B + D;
      cov[(i + 4) * N + j] = C + D;
      cov[(i + 4) * N + j + 4] = D;
    }
  }
  const q = [noise.position * h, noise.position * h, 1e-2, noise.position * h, noise.velocity * h, noise.velocity * h, 1e-5, noise.velocity * h];
  for (let i = 0; i < N; i++) cov[i * N + i]! += q[i]! ** 2;
  return { mean, cov };
}

/** Solves S X = B for the 4 x 4 symmetric positive definite S (Cholesky), B 4 x k row-major. */
function solveSpd4(S: Float64Array, B: Float64Array, k: number): Float64Array {
  const L = new Float64Array(16);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = S[i * 4 + j]!;
      for (let p = 0; p < j; p++) sum -= L[i * 4 + p]! * L[j * 4 + p]!;
      L[i * 4 + j] = i === j ? Math.sqrt(Math.max(sum, 1e-300)) : sum / L[j * 4 + j]!;
    }
  }
  const X = new Float64Array(B);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < 4; i++) {
      let sum = X[i * k + c]!;
      for (let p = 0; p < i; p++) sum -= L[i * 4 + p]! * X[p * k + c]!;
      X[i * k + c] = sum / L[i * 4 + i]!;
    }
    for (let i = 3; i >= 0; i--) {
      let sum = X[i * k + c]!;
      for (let p = i + 1; p < 4; p++) sum -= L[p * 4 + i]! * X[p * k + c]!;
      X[i * k + c] = sum / L[i * 4 + i]!;
    }
  }
  return X;
}

/** Corrects the state with a measured box: K = P H' S^-1, x += K (z - H x), P -= K S K'. */
export function update(s: BoxState, b: Box, noise: KalmanNoise): BoxState {
  const z = boxToXyah(b);
  const h = s.mean[3]!;
  const r = [noise.position * h, noise.position * h, 1e-1, noise.position * h];
  const P = s.cov;
  // S = H P H' + R: the top-left 4 x 4 block plus R.
  const S = new Float64Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) S[i * 4 + j] = P[i * N + j]! + (i === j ? r[i]! ** 2 : 0);
  // K' = S^-1 (P H')' = S^-1 (H P): solve for the 4 x 8 matrix H P (the top 4 rows of P).
  const HP = new Float64Array(4 * N);
  for (let i = 0; i < 4; i++) for (let j = 0; j < N; j++) HP[i * N + j] = P[i * N + j]!;
  const Kt = solveSpd4(S, HP, N); // 4 x 8, K = Kt'
  const innovation = [z[0] - s.mean[0]!, z[1] - s.mean[1]!, z[2] - s.mean[2]!, z[3] - s.mean[3]!];
  const mean = new Float64Array(s.mean);
  for (let j = 0; j < N; j++) for (let i = 0; i < 4; i++) mean[j]! += Kt[i * N + j]! * innovation[i]!;
  // P - K S K' = P - K (H P) (since S K' = H P).
  const cov = new Float64Array(P);
  for (let a = 0; a < N; a++) {
    for (let c = 0; c < N; c++) {
      let sum = 0;
      for (let i = 0; i < 4; i++) sum += Kt[i * N + a]! * HP[i * N + c]!;
      cov[a * N + c]! -= sum;
    }
  }
  return { mean, cov };
}
