/**
 * A revision's progress from its video record (pure): which clips are done, and how many of its
 * work units (model windows, plus keyframes where people are detected) are scored, with an ETA.
 *
 * The segmenter records the units each clip owns (`clipUnits`); a worker scoring a clip records
 * how many of that clip's units it has scored so far (`clipWindows[index]`, only ever raised, at
 * most every PROGRESS_REPORT_SECONDS), and a done clip counts in full. So a redelivered clip never
 * moves the count back and a clip scored twice never counts twice.
 */
import { isIndexed, type VideoRecord } from '../records.ts';

/** A worker writes a clip's count at most this often (one small conditional update). */
export const PROGRESS_REPORT_SECONDS = 3;

/** Whether a video's done set covers every clip. */
export function isComplete(v: Pick<VideoRecord, 'doneClips' | 'clipsTotal'>): boolean {
  return v.clipsTotal > 0 && missingClips(v).length === 0;
}

/** Indices of the clips of the revision not yet in its done set, ascending. */
export function missingClips(v: Pick<VideoRecord, 'doneClips' | 'clipsTotal'>): number[] {
  const done = new Set(v.doneClips);
  const missing: number[] = [];
  for (let i = 0; i < v.clipsTotal; i++) if (!done.has(i)) missing.push(i);
  return missing;
}

/** How many of the units starting at `starts` (ascending or not) each clip [clipStarts[i], + clipSeconds) owns. */
export function unitsPerClip(starts: readonly number[], clipStarts: readonly number[], clipSeconds: number): number[] {
  return clipStarts.map((s) => starts.filter((t) => t >= s && t < s + clipSeconds).length);
}

export interface WindowProgress {
  /** Work units (windows, and keyframes where people are detected) scored so far. */
  windowsDone: number;
  windowsTotal: number;
  /** Seconds left at the rate so far; null while nothing is scored yet (or the video failed); 0 once indexed. */
  etaSeconds: number | null;
}

export interface ProgressFacts {
  status: string;
  clipUnits?: readonly number[] | undefined;
  clipWindows?: Readonly<Record<string, number>> | undefined;
  doneClips: Iterable<number>;
  /** ISO time of the revision's first reported unit. */
  workStartedAt?: string | undefined;
}

/** The revision's unit counts and ETA; undefined for records made before units were recorded. */
export function windowProgress(v: ProgressFacts, nowMs: number): WindowProgress | undefined {
  if (!v.clipUnits || v.clipUnits.length === 0) return undefined;
  const total = v.clipUnits.reduce((s, n) => s + n, 0);
  if (isIndexed(v.status)) return { windowsDone: total, windowsTotal: total, etaSeconds: 0 };
  const done = new Set(v.doneClips);
  let scored = 0;
  for (const [i, units] of v.clipUnits.entries()) scored += done.has(i) ? units : Math.min(units, v.clipWindows?.[String(i)] ?? 0);
  const started = v.workStartedAt ? Date.parse(v.workStartedAt) : NaN;
  let eta: number | null = null;
  if (v.status !== 'failed' && scored > 0 && Number.isFinite(started)) {
    const elapsed = Math.max(0, nowMs - started) / 1000;
    eta = scored >= total ? 0 : Math.round(((total - scored) * elapsed) / scored);
  }
  return { windowsDone: scored, windowsTotal: total, etaSeconds: eta };
}

/**
 * Reports a clip's scored units at most every `everyMs`, each count only if higher than the last
 * sent; `send` failures go to `onError` and never stop the scoring.
 */
export function throttledReporter(send: (done: number) => Promise<unknown>, everyMs: number, onError: (e: unknown) => void, now: () => number = Date.now): { start(): void; report(done: number): void; settle(): Promise<void> } {
  let last = -Infinity;
  let sent = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const fire = (n: number) => {
    sent = n;
    last = now();
    inFlight = inFlight.then(() => send(n)).then(() => undefined, onError);
  };
  return {
    /** Records the clip's start (0 units): the ETA counts from the first clip begun. */
    start() {
      fire(0);
    },
    report(done) {
      if (done <= sent) return;
      if (now() - last >= everyMs) fire(done);
    },
    /** Waits for the write in flight (a count held back by the interval is not sent: a done clip counts in full). */
    async settle() {
      await inFlight;
    },
  };
}
