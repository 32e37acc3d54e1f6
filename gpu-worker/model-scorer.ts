/**
 * ClipScorer over the real model: probe the clip's source (presigned URL), read exactly the
 * windows the clip owns (core/video readWindows: decode + sample + pack), score them with
 * core/analyze's loop. The engine is wrapped in a CoalescingEngine so the clips of one receive
 * batch, scored concurrently, share model runs: their windows are batched together on the model.
 */
import type { InputData } from '../core/model/engine.ts';
import type { Manifest } from '../core/model/manifest.ts';
import { scoreBatches, type Scorer, type ScoringEngine } from '../core/analyze/score.ts';
import { probe } from '../core/video/probe.ts';
import { planWindows } from '../core/video/windows.ts';
import { readWindows } from '../core/video/window-source.ts';
import type { ClipScorer, PlannedWindow, ScoreOutput } from '../core/pipeline/clip-scorer.ts';
import { planKeyframes, type KeyframePlan } from '../core/detection/keyframes.ts';
import { detectKeyframes, type ActionModel, type PeopleModel } from '../core/detection/runner.ts';

interface Pending {
  inputs: Record<string, InputData>;
  n: number;
  resolve(logits: Float32Array): void;
  reject(e: unknown): void;
}

/**
 * Coalesces concurrent `run` calls into one model run (concatenated along N, split after).
 * While a run is on the model, new requests queue up and go together into the next one, up
 * to `maxBatch` windows per run.
 */
export class CoalescingEngine implements ScoringEngine {
  private queue: Pending[] = [];
  private busy = false;
  runs = 0;
  windows = 0;
  inferMs = 0;

  constructor(private readonly inner: ScoringEngine, private readonly maxBatch: number) {}

  get manifest(): ScoringEngine['manifest'] {
    return this.inner.manifest;
  }

  get entry(): ScoringEngine['entry'] {
    return this.inner.entry;
  }

  run(inputs: Record<string, InputData>, n: number): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ inputs, n, resolve, reject });
      if (!this.busy) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    const take: Pending[] = [];
    let total = 0;
    while (this.queue.length > 0 && (take.length === 0 || total + this.queue[0]!.n <= this.maxBatch)) {
      const p = this.queue.shift()!;
      take.push(p);
      total += p.n;
    }
    try {
      const inputs: Record<string, InputData> = take.length === 1 ? take[0]!.inputs : {};
      for (const name of take.length === 1 ? [] : Object.keys(take[0]!.inputs)) {
        const parts = take.map((p) => p.inputs[name]!);
        const length = parts.reduce((s, a) => s + a.length, 0);
        const joined = parts[0] instanceof Uint8Array ? new Uint8Array(length) : new Float32Array(length);
        let off = 0;
        for (const a of parts) {
          if (joined instanceof Uint8Array) joined.set(a as Uint8Array, off);
          else joined.set(a as Float32Array, off);
          off += a.length;
        }
        inputs[name] = joined;
      }
      const t0 = performance.now();
      const logits = await this.inner.run(inputs, total);
      this.inferMs += performance.now() - t0;
      this.runs++;
      this.windows += total;
      const per = logits.length / total;
      let row = 0;
      for (const p of take) {
        p.resolve(logits.slice(row * per, (row + p.n) * per));
        row += p.n;
      }
    } catch (e) {
      for (const p of take) p.reject(e);
    } finally {
      this.busy = false;
      if (this.queue.length > 0) setImmediate(() => void this.flush());
    }
  }
}

export interface ModelScorerOptions {
  manifest: Manifest;
  engine: ScoringEngine;
  scores: Scorer;
  device: string;
  /** Windows per packed batch of one clip, and max windows per coalesced model run. */
  batch: number;
  maxBatch: number;
  topK: number;
  hwaccel?: boolean;
  fastDecode?: boolean;
  close?: () => Promise<void>;
  /** Score the classifier's windows (default true; false in detection-only deployments: no windows are planned). */
  classify?: boolean;
  /** Per-person detection over the keyframes each clip owns (detection deployments). */
  detection?: { people: PeopleModel; actions: ActionModel; interval: number; scoreThreshold?: number; maxPeople?: number };
  /** sha256 of the manifest file (which weights these are). */
  manifestSha256?: string | undefined;
}

export function createModelScorer(o: ModelScorerOptions): ClipScorer {
  const engine = new CoalescingEngine(o.engine, o.maxBatch);
  return {
    device: o.device,
    architecture: o.manifest.architecture,
    trained: o.manifest.trained,
    manifestSha256: o.manifestSha256,
    topK: o.topK,
    windowsFor(duration: number): PlannedWindow[] {
      return o.classify === false ? [] : planWindows(duration, o.manifest);
    },
    ...(o.detection ? { keyframesFor: (duration: number): KeyframePlan[] => planKeyframes(duration, o.detection!.interval) } : {}),
    async score(source, _video, windows, signal, keyframes, onProgress): Promise<ScoreOutput> {
      const t0 = performance.now();
      const info = await probe(source, { signal });
      let inferMs = 0;
      let detected: ScoreOutput['keyframes'];
      let keyframesDone = 0;
      if (o.detection) {
        // The detector takes one keyframe a run; the action model takes the clip's keyframes with people in batches (defaultActionBatch by device); see docs/decisions.md.
        const d = await detectKeyframes(source, info, keyframes ?? [], o.detection, {
          scoreThreshold: o.detection.scoreThreshold,
          maxPeople: o.detection.maxPeople,
          signal,
          onProgress: (done) => onProgress?.((keyframesDone = done)),
        });
        detected = d.keyframes;
        inferMs += d.timings.detectorMs + d.timings.actionMs;
      }
      if (windows.length === 0) {
        const total = performance.now() - t0;
        return { windows: [], ...(detected ? { keyframes: detected } : {}), decodeMs: total - inferMs, inferenceMs: inferMs };
      }
      const reader = readWindows(source, o.manifest, {
        info,
        windows: [...windows],
        batch: o.batch,
        entry: o.engine.entry ?? 'float',
        signal,
        hwaccel: o.hwaccel ?? false,
        fastDecode: o.fastDecode ?? false,
      });
      const out = await scoreBatches(reader, engine, o.scores, {
        total: windows.length,
        topK: o.topK,
        signal,
        onBatch: (t) => (inferMs += t.inferMs),
        onProgress: (done) => onProgress?.(keyframesDone + done),
      });
      const total = performance.now() - t0;
      return { windows: out, ...(detected ? { keyframes: detected } : {}), decodeMs: total - inferMs, inferenceMs: inferMs };
    },
    async close() {
      await o.close?.();
    },
  };
}
