/**
 * A video (or some of its windows) through a model into an action timeline (issue 3):
 *   probe -> planWindows(stride) -> scoreWindows (decode overlapped with inference, softmax,
 *   top-k) -> mergeSegments -> summarize -> AnalysisResult (validated against its schema).
 */
import { VidxError } from './errors.ts';
import type { Manifest } from './model/manifest.ts';
import { softmax, topK } from './model/scores.ts';
import type { AnalysisResult, TimelineOptions, WindowScore } from './result.ts';
import { AnalysisResultSchema, RESULT_VERSION } from './result.ts';
import { checkTimelineOptions, defaultTimelineOptions, mergeSegments, summarize } from './timeline/index.ts';
import type { VideoInfo } from './video/probe.ts';
import { probe, toVideoFacts } from './video/probe.ts';
import { readWindows } from './video/window-source.ts';
import type { WindowPlan } from './video/windows.ts';
import { planWindows } from './video/windows.ts';
import type { BatchTiming, ScoringEngine } from './analyze/score.ts';
import { checkScoreOptions, scoreBatches } from './analyze/score.ts';

export type { BatchTiming, ScoringEngine } from './analyze/score.ts';


/** An engine as analyzeVideo needs it: the full manifest, and the device it runs on. */
export interface AnalyzeEngine extends ScoringEngine {
  readonly manifest: Manifest;
  readonly device?: string;
}

/**
 * Windows per engine.run. On CPU a batch of 2 keeps memory low (a SlowFast window is 6.3 MB of
 * frames for the uint8 entry, 31.5 MB of float32 for the float entry) while giving the reader a batch's worth of inference to hide behind; on a
 * GPU larger batches fill the device.
 */
export function defaultBatch(device: string | undefined): number {
  return device === 'cuda' ? 8 : 2;
}

export interface ScoreWindowsOptions {
  info: VideoInfo;
  windows: readonly WindowPlan[];
  batch: number;
  topK: number;
  hwaccel?: boolean;
  /** Skip the H.264 loop filter while decoding (faster; README Performance). */
  fastDecode?: boolean;
  /** ffmpeg decoder threads (default: VIDX_THREADS, else ffmpeg's choice). */
  decodeThreads?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Per batch: time waited on decode (not hidden by inference) and time in the model. */
  onBatch?: (t: BatchTiming) => void;
  /** Called with each decoder child's pid (benches sample its memory). */
  onSpawn?: (pid: number | undefined) => void;
}

/**
 * Scores `windows` of `source` (all of a video's, or one clip's: the GPU worker calls this per
 * clip). Returns one WindowScore per window, in window order, keyed by the global index.
 */
export async function scoreWindows(source: string, engine: ScoringEngine & { manifest: Manifest }, opts: ScoreWindowsOptions): Promise<WindowScore[]> {
  checkScoreOptions(opts, engine.manifest.output.classes);
  if (opts.windows.length === 0) return [];
  // Our own controller, linked to the caller's: a failed inference aborts the decode in flight.
  const ac = new AbortController();
  const onAbort = () => ac.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const reader = readWindows(source, engine.manifest, {
      info: opts.info,
      windows: [...opts.windows],
      batch: opts.batch,
      // The engine says which entry it runs: uint8 frames (bytes) or float NCTHW.
      entry: engine.entry ?? 'float',
      hwaccel: opts.hwaccel,
      fastDecode: opts.fastDecode,
      threads: opts.decodeThreads,
      signal: ac.signal,
      onSpawn: opts.onSpawn,
    });
    return await scoreBatches(reader, engine, { softmax, topK }, {
      total: opts.windows.length,
      topK: opts.topK,
      signal: opts.signal,
      onProgress: opts.onProgress,
      onBatch: opts.onBatch,
      stop: () => ac.abort(new Error('scoring failed')),
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

export interface AnalyzeOptions extends Partial<TimelineOptions> {
  /** The source's probe, when the caller already has it (else analyzeVideo probes). */
  info?: VideoInfo;
  /** Windows per engine.run; default defaultBatch(engine.device). */
  batch?: number;
  hwaccel?: boolean;
  fastDecode?: boolean;
  decodeThreads?: number;
  signal?: AbortSignal;
  /** Called once the windows are planned (total), then after every batch. */
  onProgress?: (done: number, total: number) => void;
  onBatch?: (t: BatchTiming) => void;
}

export function describeSource(m: Manifest): string {
  return m.source.kind === 'synthetic' ? 'synthetic' : (m.source.url ?? m.source.file);
}

/** The timeline options an analysis will use: the model's defaults, then the caller's overrides. */
export function resolveTimelineOptions(manifest: Manifest, overrides: Partial<TimelineOptions>): TimelineOptions {
  const defaults = defaultTimelineOptions(manifest, manifest.trained);
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<TimelineOptions>;
  return checkTimelineOptions({ ...defaults, ...defined });
}

export async function analyzeVideo(source: string, engine: AnalyzeEngine, opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const manifest = engine.manifest;
  const options = resolveTimelineOptions(manifest, { stride: opts.stride, threshold: opts.threshold, gap: opts.gap, topK: opts.topK });
  const batch = opts.batch ?? defaultBatch(engine.device);
  checkScoreOptions({ batch, topK: options.topK }, manifest.output.classes);
  const info = opts.info ?? (await probe(source, { signal: opts.signal }));
  const windows = planWindows(info.duration, manifest, options.stride);
  opts.onProgress?.(0, windows.length);
  const scored = await scoreWindows(source, engine, {
    info,
    windows,
    batch,
    topK: options.topK,
    hwaccel: opts.hwaccel,
    fastDecode: opts.fastDecode,
    decodeThreads: opts.decodeThreads,
    signal: opts.signal,
    onProgress: opts.onProgress,
    onBatch: opts.onBatch,
  });
  const segments = mergeSegments(scored, options);
  const video = toVideoFacts(source, info);
  const result = {
    schema: RESULT_VERSION,
    video,
    model: { architecture: manifest.architecture, trained: manifest.trained, source: describeSource(manifest) },
    options,
    windows: scored,
    segments,
    summary: summarize(segments, video.duration),
  };
  const parsed = AnalysisResultSchema.safeParse(result);
  if (!parsed.success) {
    const what = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new VidxError('ANALYZE_BAD_RESULT', `the analysis result does not match ${RESULT_VERSION} (${what})`, {
      hint: 'this is a bug in vidx; report it with the video and model used',
    });
  }
  return parsed.data;
}
