/**
 * Windows in, packed model inputs out: the whole window contract end to end.
 *
 *  1. The windows are split into spans of at most SPAN_SECONDS of video (bounded memory and
 *     bounded frame lists, whatever the video length).
 *  2. For a span, the presentation times of its frames are listed (frame-times.ts) and each window
 *     frame k is mapped to the frame on screen at t0 + k*r/F (frame-plan.ts: the frame rule).
 *  3. ffmpeg decodes exactly the needed frames, after rotation, scaled and cropped (decode.ts).
 *  4. Each decoded frame is converted ONCE to normalized planar float32 (normalize.ts) and shared
 *     by every window and every repeat that uses it; it is freed when no pending window needs it.
 *  5. A window is packed as soon as its last frame has arrived: for each model input, the frames
 *     that input takes (all T, or PackPathway's subsample: windows.ts) in NCTHW order.
 */
import { VidxError } from '../errors.ts';
import type { Manifest } from '../model/manifest.ts';
import { windowSeconds } from '../model/manifest.ts';
import { decodeFrames } from './decode.ts';
import { listFrameTimes } from './frame-times.ts';
import { planFrames } from './frame-plan.ts';
import { convertFrame, normalizationTable } from './normalize.ts';
import type { VideoInfo } from './probe.ts';
import { frameInstants, inputFrameIndices, type WindowPlan } from './windows.ts';


/** Longest stretch of video (s) handled by one frame listing and one ffmpeg run. */
export const SPAN_SECONDS = 120;

export interface PackedBatch {
  windows: WindowPlan[];
  /** Input name -> [n, 3, t, C, C] float32, NCTHW, n = windows.length. */
  inputs: Record<string, Float32Array>;
  /** Per window: the presentation time (s, relative to the video's start) of each of its T frames. */
  frameTimes: number[][];
}

export interface ReadWindowsOptions {
  info: VideoInfo;
  windows: WindowPlan[];
  batch: number;
  hwaccel?: boolean;
  signal?: AbortSignal;
  threads?: number;
  log?: (msg: string) => void;
  /** Statistics for tests and the bench (frames decoded and converted). */
  stats?: { decoded: number; converted: number; spans: number };
  /** Called with each ffmpeg pid (tests). */
  onSpawn?: (pid: number | undefined) => void;
}

interface InputLayout {
  name: string;
  /** Indices into the window's T frames. */
  frames: number[];
}

/** The model inputs and the window frames each takes, checked against the manifest's own numbers. */
export function inputLayouts(m: Manifest): InputLayout[] {
  if (m.crop > m.shortSide) {
    throw new VidxError('MANIFEST_INPUT_INVALID', `manifest crop ${m.crop} is larger than its short side ${m.shortSide}`, { hint: 'fix the manifest' });
  }
  return m.inputs.map((inp) => {
    const [, , t, h, w] = inp.shape;
    if (t !== inp.frames || h !== m.crop || w !== m.crop) {
      throw new VidxError('MANIFEST_INPUT_INVALID', `manifest input ${inp.name} has shape [N,3,${t},${h},${w}] but takes ${inp.frames} frames of ${m.crop}x${m.crop}`, {
        hint: 'fix the manifest',
      });
    }
    if (inp.frames > m.frames) {
      throw new VidxError('MANIFEST_INPUT_INVALID', `manifest input ${inp.name} takes ${inp.frames} frames but a window has ${m.frames}`, { hint: 'fix the manifest' });
    }
    return { name: inp.name, frames: inputFrameIndices(m.frames, inp.frames) };
  });
}

/** Split sorted windows into spans whose frame instants cover at most SPAN_SECONDS. */
function spans(windows: WindowPlan[], m: Manifest): WindowPlan[][] {
  const out: WindowPlan[][] = [];
  const D = windowSeconds(m);
  let cur: WindowPlan[] = [];
  for (const w of windows) {
    if (cur.length > 0 && w.start + D - cur[0]!.start > SPAN_SECONDS) {
      out.push(cur);
      cur = [];
    }
    cur.push(w);
  }
  if (cur.length) out.push(cur);
  return out;
}

class BatchBuilder {
  private windows: WindowPlan[] = [];
  private frameTimes: number[][] = [];
  private bufs: Record<string, Float32Array> = {};
  private readonly plane: number;

  constructor(
    private readonly layouts: InputLayout[],
    private readonly capacity: number,
    C: number,
  ) {
    this.plane = C * C;
    this.reset();
  }

  private reset(): void {
    this.windows = [];
    this.frameTimes = [];
    this.bufs = {};
    for (const l of this.layouts) this.bufs[l.name] = new Float32Array(this.capacity * 3 * l.frames.length * this.plane);
  }

  get size(): number {
    return this.windows.length;
  }

  /** Contract layout NCTHW: element (n, c, t, y, x) at (((n*3 + c)*t_len + t)*C + y)*C + x. */
  add(w: WindowPlan, frames: Float32Array[], times: number[]): void {
    const n = this.windows.length;
    for (const l of this.layouts) {
      const buf = this.bufs[l.name]!;
      const tl = l.frames.length;
      for (let ti = 0; ti < tl; ti++) {
        const src = frames[l.frames[ti]!]!;
        for (let c = 0; c < 3; c++) {
          buf.set(src.subarray(c * this.plane, (c + 1) * this.plane), ((n * 3 + c) * tl + ti) * this.plane);
        }
      }
    }
    this.windows.push(w);
    this.frameTimes.push(times);
  }

  take(): PackedBatch {
    const n = this.windows.length;
    const inputs: Record<string, Float32Array> = {};
    for (const l of this.layouts) {
      const b = this.bufs[l.name]!;
      inputs[l.name] = n === this.capacity ? b : b.slice(0, n * 3 * l.frames.length * this.plane);
    }
    const out = { windows: this.windows, inputs, frameTimes: this.frameTimes };
    this.reset();
    return out;
  }
}

/**
 * Decode, sample and pack `windows` (any order; yielded in start order) in batches of `batch`.
 * Memory: the frames of the windows in flight plus one batch, independent of the video's length.
 */
export async function* readWindows(source: string, m: Manifest, opts: ReadWindowsOptions): AsyncGenerator<PackedBatch> {
  const { info } = opts;
  if (!(opts.batch >= 1) || !Number.isInteger(opts.batch)) throw new RangeError(`batch must be a positive integer, got ${opts.batch}`);
  const layouts = inputLayouts(m);
  const lut = normalizationTable(m);
  const C = m.crop;
  const sorted = [...opts.windows].sort((a, b) => a.start - b.start);
  const builder = new BatchBuilder(layouts, opts.batch, C);
  const stats = opts.stats;
  /** The last converted frame of the previous span, by pts: the next span may need it again. */
  let carry: { pts: number; data: Float32Array } | undefined;

  for (const span of spans(sorted, m)) {
    if (stats) stats.spans++;
    const first = frameInstants(span[0]!, m)[0]!;
    const lastW = span[span.length - 1]!;
    const last = frameInstants(lastW, m)[m.frames - 1]!;
    const ft = await listFrameTimes(source, info, first, last, opts.signal);
    const plan = planFrames(ft.times, span, m);
    // Reference counts: how many window frames (of this span's windows) still need each frame.
    const refs = new Map<number, number>();
    for (const f of plan.frames) for (const i of f) refs.set(i, (refs.get(i) ?? 0) + 1);
    const ready = new Map<number, Float32Array>();
    const carried = carry && plan.needed.find((i) => ft.pts[i] === carry!.pts);
    if (carry && carried !== undefined) ready.set(carried, carry.data);
    const toDecode = plan.needed.filter((i) => !ready.has(i));
    let nextWindow = 0;
    /** The latest frame in `ready`: kept until a later one arrives (it may be carried to the next span). */
    let lastDecoded = carried ?? -1;

    const flushReady = function* (): Generator<PackedBatch> {
      while (nextWindow < span.length) {
        const idx = plan.frames[nextWindow]!;
        if (!idx.every((i) => ready.has(i))) return;
        builder.add(
          span[nextWindow]!,
          idx.map((i) => ready.get(i)!),
          idx.map((i) => ft.times[i]!),
        );
        for (const i of idx) {
          const left = refs.get(i)! - 1;
          refs.set(i, left);
          if (left === 0 && i !== lastDecoded) ready.delete(i);
        }
        nextWindow++;
        if (builder.size === opts.batch) yield builder.take();
      }
    };

    yield* flushReady();
    const wantedPts = toDecode.map((i) => ft.pts[i]!);
    const byPts = new Map(toDecode.map((i) => [ft.pts[i]!, i]));
    for await (const frame of decodeFrames(source, info, wantedPts, {
      shortSide: m.shortSide,
      crop: C,
      hwaccel: opts.hwaccel,
      signal: opts.signal,
      threads: opts.threads,
      log: opts.log,
      onSpawn: opts.onSpawn,
    })) {
      const i = byPts.get(frame.pts)!;
      // Rule "convert each decoded frame once": the only conversion, shared by all its uses.
      ready.set(i, convertFrame(frame.rgb, C, lut));
      if (stats) {
        stats.decoded++;
        stats.converted++;
      }
      // The previous "latest" frame may now be released if nothing needs it.
      if (lastDecoded >= 0 && (refs.get(lastDecoded) ?? 0) === 0) ready.delete(lastDecoded);
      lastDecoded = i;
      yield* flushReady();
    }
    if (nextWindow !== span.length) throw new Error(`internal: ${span.length - nextWindow} windows left unpacked`); // decodeFrames verified every frame arrived
    const lastIdx = plan.needed[plan.needed.length - 1]!;
    carry = { pts: ft.pts[lastIdx]!, data: ready.get(lastIdx)! };
  }
  if (builder.size > 0) yield builder.take();
}
