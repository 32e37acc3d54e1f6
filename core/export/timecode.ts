/**
 * SMPTE non-drop-frame timecode HH:MM:SS:FF for EDLs. The frame count is the instant times the
 * video's real frame rate, rounded; it is written at the nominal (integer) rate, which is what
 * "NON-DROP FRAME" means for 29.97/59.94 material (timecode runs 0.1 % slow against the clock).
 */
export const DEFAULT_EDL_FPS = 30;

/** The integer timecode base for a frame rate (29.97 -> 30, 23.976 -> 24); unknown -> 30. */
export function timecodeBase(fps: number | undefined): number {
  return fps !== undefined && Number.isFinite(fps) && fps >= 1 ? Math.round(fps) : DEFAULT_EDL_FPS;
}

export function framesAt(seconds: number, fps: number): number {
  return Math.max(0, Math.round(seconds * fps));
}

export function timecode(frames: number, base: number): string {
  const ff = frames % base;
  const totalSeconds = Math.floor(frames / base);
  const ss = totalSeconds % 60;
  const mm = Math.floor(totalSeconds / 60) % 60;
  const hh = Math.floor(totalSeconds / 3600) % 24;
  return [hh, mm, ss, ff].map((n) => String(n).padStart(2, '0')).join(':');
}

/** WebVTT cue time: HH:MM:SS.mmm (hours always written, so any length fits). */
export function vttTime(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
}
