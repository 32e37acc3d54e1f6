/**
 * The AVA keyframe plan: pure arithmetic, no I/O.
 *
 * Keyframe k stands for the span [k*I, (k+1)*I) of the video (I = the keyframe interval, 1 s by
 * default as in AVA) and sits at its centre, t_k = (k + 0.5) * I, so a person segment built from
 * keyframes a..b covers [a*I, (b+1)*I) and reads "12.0-19.0 s". Every keyframe whose time is inside
 * the video is planned; a video shorter than I/2 gets one keyframe at its middle, so no video is
 * left without one.
 *
 * The action clip of a keyframe is the model's window centred on it (PyTorchVideo's AVA recipe:
 * clip of T*r/F seconds from t - D/2 to t + D/2, T frames every r/F seconds). Frames before the
 * video's start repeat the first frame and frames past its end repeat the last, as for windows.
 */
import type { Manifest } from '../model/manifest.ts';
import { windowSeconds } from '../model/manifest.ts';
import { TIME_EPS } from '../video/windows.ts';

export const DEFAULT_KEYFRAME_INTERVAL = 1;

export interface KeyframePlan {
  index: number;
  /** Keyframe time (s), the centre of its span and of its action clip. */
  t: number;
  /** The span this keyframe stands for: [start, end), clamped to the video. */
  start: number;
  end: number;
}

export function planKeyframes(duration: number, interval: number = DEFAULT_KEYFRAME_INTERVAL): KeyframePlan[] {
  if (!(interval > 0) || !Number.isFinite(interval)) throw new RangeError(`keyframe interval must be a positive number of seconds, got ${interval}`);
  if (!(duration >= 0) || !Number.isFinite(duration)) throw new RangeError(`duration must be a finite number >= 0, got ${duration}`);
  const out: KeyframePlan[] = [];
  for (let k = 0; ; k++) {
    const t = (k + 0.5) * interval;
    if (t >= duration - TIME_EPS) break;
    out.push({ index: k, t, start: k * interval, end: Math.min((k + 1) * interval, duration) });
  }
  if (out.length === 0) out.push({ index: 0, t: duration / 2, start: 0, end: duration });
  return out;
}

/** A clip [a, b) owns the keyframes whose time is in [a, b), so clips that tile the video share them out once. */
export function keyframesInClip(all: readonly KeyframePlan[], clipStart: number, clipEnd: number): KeyframePlan[] {
  return all.filter((k) => k.t >= clipStart && k.t < clipEnd);
}

/** The instants of the action clip's T frames: t - D/2 + j*r/F, j = 0..T-1 (may fall outside the video). */
export function actionClipInstants(t: number, m: Pick<Manifest, 'frames' | 'samplingRate' | 'fps'>): number[] {
  const start = t - windowSeconds(m) / 2;
  return Array.from({ length: m.frames }, (_, j) => start + (j * m.samplingRate) / m.fps);
}
