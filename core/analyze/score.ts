/**
 * Windows -> per-window top-k scores, with decoding overlapped with inference.
 *
 * The pipeline is two stages, the window reader (ffmpeg decode + sample + pack, mostly in
 * child processes and on the event loop) and the engine (onnxruntime, on its own native
 * threads). While `engine.run` awaits batch i, the reader is already asked for batch i+1
 * (`next = reader.next()` is issued BEFORE awaiting the run), so the event loop decodes and
 * packs the next batch during inference. One batch is in flight ahead, no more: memory stays
 * at two packed batches whatever the video's length.
 *
 * This is also what the GPU worker calls for one clip's windows: pass the clip's windows
 * (`windowsInClip`) and the scores come out keyed by the global window index.
 */
import { VidxError } from '../errors.ts';
import type { InputData } from '../model/engine.ts';
import type { Manifest } from '../model/manifest.ts';
import type { LabelScore, WindowScore } from '../result.ts';


/** What scoring reads of a planned window (core/video's WindowPlan). */
export interface PlannedWindow {
  index: number;
  start: number;
  end: number;
}

/** What scoring reads of a packed batch (core/video's PackedBatch): inputs are [n, ...] per the engine's entry. */
export interface Batch {
  windows: readonly PlannedWindow[];
  inputs: Record<string, InputData>;
}

/** What scoring needs of an engine (core/model's InferenceEngine). */
export interface ScoringEngine {
  readonly manifest: Pick<Manifest, 'labels' | 'output'> & Partial<Manifest>;
  run(inputs: Record<string, InputData>, batch: number): Promise<Float32Array>;
  /** Runs and also returns the pooled features ([batch, size]), where the model has a features output. */
  runWithFeatures?(inputs: Record<string, InputData>, batch: number): Promise<{ logits: Float32Array; features: Float32Array }>;
  /** Which entry the engine runs (uint8: frames as bytes); absent means float. */
  readonly entry?: 'float' | 'uint8';
}

/** Softmax + top-k of one row of probabilities (core/model/scores.ts). */
export interface Scorer {
  softmax(logits: Float32Array, classes: number): Float32Array;
  topK(probs: Float32Array, row: number, classes: number, k: number, labels: readonly string[]): LabelScore[];
}

export interface BatchTiming {
  /** Windows in the batch. */
  windows: number;
  /** Time the loop waited for the reader (decode not hidden behind inference). */
  waitMs: number;
  /** Time in engine.run. */
  inferMs: number;
}

export interface ScoreLoopOptions {
  total: number;
  topK: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  onBatch?: (t: BatchTiming) => void;
  /** Given each window's pooled features (when the engine has them): the vectors kept for search. */
  onFeatures?: (window: PlannedWindow, features: Float32Array) => void;
  /** Called on failure before the reader is closed: aborts the reader's decode at once. */
  stop?: () => void;
}

export function checkScoreOptions(o: { batch: number; topK: number }, classes: number): void {
  if (!Number.isInteger(o.batch) || o.batch < 1) {
    throw new VidxError('ANALYZE_BAD_OPTIONS', `batch must be a whole number >= 1, got ${o.batch}`, { hint: 'pass --batch 1 or more' });
  }
  if (!Number.isInteger(o.topK) || o.topK < 1 || o.topK > classes) {
    throw new VidxError('ANALYZE_BAD_OPTIONS', `top-k must be a whole number in [1, ${classes}], got ${o.topK}`, {
      hint: `the model has ${classes} labels`,
    });
  }
}

/**
 * Drives `reader` (an async iterator of packed batches) through `engine`, prefetching one batch
 * ahead. On an error or abort the reader is closed (`return()`), which stops its decoder.
 */
export async function scoreBatches(
  reader: AsyncIterator<Batch>,
  engine: ScoringEngine,
  scorer: Scorer,
  opts: ScoreLoopOptions,
): Promise<WindowScore[]> {
  const classes = engine.manifest.output.classes;
  const labels = engine.manifest.labels;
  const out: WindowScore[] = [];
  let next = reader.next();
  try {
    for (;;) {
      const t0 = performance.now();
      const r = await next;
      if (r.done) break;
      if (opts.signal?.aborted) throw new VidxError('ABORTED', 'scoring the windows: aborted');
      const batch = r.value;
      const n = batch.windows.length;
      if (n === 0) throw new VidxError('ANALYZE_BAD_BATCH', 'the window reader produced an empty batch');
      // Prefetch: ask for the next batch now, so it decodes while this one is inferred. Its
      // rejection (if any) is observed by the `await next` of the next iteration, or, when
      // this iteration fails first, by closeAfterError. The no-op handler only keeps Node
      // from reporting it as unhandled while inference runs.
      next = reader.next();
      next.catch(() => undefined);
      const t1 = performance.now();
      let logits: Float32Array;
      if (opts.onFeatures && engine.runWithFeatures) {
        const r = await engine.runWithFeatures(batch.inputs, n);
        logits = r.logits;
        const size = r.features.length / n;
        for (let row = 0; row < n; row++) opts.onFeatures(batch.windows[row]!, r.features.slice(row * size, (row + 1) * size));
      } else {
        logits = await engine.run(batch.inputs, n);
      }
      const t2 = performance.now();
      if (logits.length !== n * classes) {
        throw new VidxError('ANALYZE_BAD_LOGITS', `the model returned ${logits.length} logits for ${n} windows x ${classes} classes`, {
          hint: 'the ONNX output does not match the manifest (output.classes)',
        });
      }
      const probs = scorer.softmax(logits, classes);
      for (let row = 0; row < n; row++) {
        const w = batch.windows[row]!;
        out.push({ index: w.index, start: w.start, end: w.end, top: scorer.topK(probs, row, classes, opts.topK, labels) });
      }
      opts.onBatch?.({ windows: n, waitMs: t1 - t0, inferMs: t2 - t1 });
      opts.onProgress?.(out.length, opts.total);
    }
  } catch (e) {
    await closeAfterError(reader, next, opts.stop);
    throw e;
  }
  return out;
}

/**
 * Closes the reader after the loop failed; the loop's error is the one the caller sees.
 * `stop` (abort the reader's signal) makes a prefetch in progress end at once; that prefetch
 * is then awaited so the generator is not closed while it runs. Its outcome no longer matters
 * once the loop has failed (typically it is the abort we just caused). A failure to close is
 * reported as a process warning rather than hiding the loop's error.
 */
async function closeAfterError(reader: AsyncIterator<Batch>, pending: Promise<IteratorResult<Batch>>, stop?: () => void): Promise<void> {
  stop?.();
  await pending.then(
    () => undefined,
    () => undefined,
  );
  try {
    await reader.return?.();
  } catch (closeError) {
    process.emitWarning(`closing the window reader failed: ${closeError instanceof Error ? closeError.message : String(closeError)}`);
  }
}
