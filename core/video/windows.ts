/**
 * The window contract (issue 3, "The window contract"): pure arithmetic, no I/O.
 * Times are seconds relative to the video's start (VideoInfo.startTime).
 */
import type { Manifest } from '../model/manifest.ts';
import { windowSeconds } from '../model/manifest.ts';

export interface WindowPlan {
  /** Position in the whole video's window list (0-based). */
  index: number;
  start: number;
  /** start + D; may run past the video's end (frames there repeat the last frame). */
  end: number;
}

/** Tolerance for comparing computed times (seconds): far below any real frame spacing (1/90000 s). */
export const TIME_EPS = 1e-6;

/**
 * Contract: "Windows start at 0 and step by a stride (default D); a video shorter than D gets one
 * window." A window starting at t0 lasts D = T*r/F.
 *
 * Which windows: every window that fits in the video, start_i = i * stride with
 * start_i + D <= duration (TIME_EPS tolerance); when none fits (duration < D), the single window
 * [0, D). start_i is computed as i * stride (never by accumulation), so any caller that plans the
 * same duration/manifest/stride gets bit-identical starts.
 */
export function planWindows(duration: number, m: Pick<Manifest, 'frames' | 'samplingRate' | 'fps'>, stride?: number): WindowPlan[] {
  const D = windowSeconds(m);
  const step = stride ?? D;
  if (!(step > 0) || !Number.isFinite(step)) throw new RangeError(`stride must be a positive number of seconds, got ${stride}`);
  if (!(duration >= 0) || !Number.isFinite(duration)) throw new RangeError(`duration must be a finite number >= 0, got ${duration}`);
  const out: WindowPlan[] = [];
  for (let i = 0; ; i++) {
    const start = i * step;
    if (start + D > duration + TIME_EPS) break;
    out.push({ index: i, start, end: start + D });
  }
  if (out.length === 0) out.push({ index: 0, start: 0, end: D });
  return out;
}

/**
 * Contract: "A clip [a, b) owns the windows whose start is in [a, b)". Plain comparisons on the
 * same numbers planWindows produced, so clips that tile [0, inf) share out every window exactly once.
 */
export function windowsInClip(all: readonly WindowPlan[], clipStart: number, clipEnd: number): WindowPlan[] {
  return all.filter((w) => w.start >= clipStart && w.start < clipEnd);
}

/** Contract: frame k (k = 0..T-1) of a window is the frame on screen at t0 + k*r/F. */
export function frameInstants(w: Pick<WindowPlan, 'start'>, m: Pick<Manifest, 'frames' | 'samplingRate' | 'fps'>): number[] {
  const out: number[] = [];
  for (let k = 0; k < m.frames; k++) out.push(w.start + (k * m.samplingRate) / m.fps);
  return out;
}

/**
 * torch.linspace(start, end, steps) in float32, as PyTorch computes it on CPU (the first half
 * counts up from start, the second half down from end), then `.long()` (truncation, = floor for
 * the non-negative values here).
 */
export function linspaceIndices(end: number, steps: number): number[] {
  if (steps <= 0) return [];
  if (steps === 1) return [0];
  const f = Math.fround;
  const step = f(f(end) / (steps - 1));
  const half = Math.floor(steps / 2);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const v = i < half ? f(step * i) : f(f(end) - f(step * (steps - 1 - i)));
    out.push(Math.trunc(v));
  }
  return out;
}

/**
 * Contract: SlowFast's `slow` takes fast-frame indices floor(linspace(0, T-1, T/alpha))
 * (PyTorchVideo PackPathway: torch.linspace(0, T - 1, T // alpha).long()).
 */
export function slowPathwayIndices(T: number, alpha: number): number[] {
  return linspaceIndices(T - 1, Math.floor(T / alpha));
}

/**
 * Which of a window's T frames a model input takes, from the manifest alone: all T in order
 * (SlowFast `fast`, I3D `video`), or PackPathway's subsample when the input has fewer frames
 * (SlowFast `slow`: frames = T/alpha).
 */
export function inputFrameIndices(T: number, inputFrames: number): number[] {
  if (inputFrames === T) return Array.from({ length: T }, (_, k) => k);
  if (inputFrames > T) throw new RangeError(`an input takes ${inputFrames} frames but a window has only ${T}`);
  return linspaceIndices(T - 1, inputFrames);
}
