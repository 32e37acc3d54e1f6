/**
 * Windows in, packed model inputs out: the whole window contract end to end.
 *
 *  1. The windows are split into spans of at most SPAN_SECONDS of video (bounded memory and
 *     bounded frame lists, whatever the video length).
 *  2. For a span, the presentation times of its frames are listed (frame-times.ts) and each window
 *     frame k is mapped to the frame on screen at t0 + k*r/F (frame-plan.ts: the frame rule).
 *  3. ffmpeg decodes exactly the needed frames, after rotation, scaled and cropped (decode.ts).
 *  4. Each decoded frame is kept ONCE and shared by every window and every repeat that uses it;
 *     it is freed when no pending window needs it.
 *  5. A window is packed as soon as its last frame has arrived, for the entry the model runs:
 *     - uint8 (what analyze and the worker use): the window's T frames as they came from ffmpeg,
 *       [T, C, C, 3] bytes one after another; the model's graph does the rest (models/onnx/
 *       uint8-entry.ts). The host's work per window is copying bytes.
 *     - float (parity checks, inspect-window): each frame converted once to normalized planar
 *       float32 (normalize.ts); for each model input, the frames that input takes (all T, or
 *       PackPathway's subsample: windows.ts) in NCTHW order.
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

/** The model entry a batch is packed for (core/model/engine.ts). */
export type PackEntry = 'float' | 'uint8';

export interface PackedBatch<D extends Float32Array | Uint8Array = Float32Array> {
  windows: WindowPlan[];
  /**
   * float: input name -> [n, 3, t, C, C] float32, NCTHW; uint8: the manifest's uint8 input
   * name -> [n, T, C, C, 3] uint8 (rgb24 frames). n = windows.length.
   */
  inputs: Record<string, D>;
  /** Per window: the presentation time (s, relative to the video's start) of each of its T frames. */
  frameTimes: number[][];
}

export interface ReadWindowsOptions {
  info: VideoInfo;
  windows: WindowPlan[];
  batch: number;
  /** What to pack for (default 'float'). */
  entry?: PackEntry;
  hwaccel?: boolean;
  /** Decode faster by skipping the H.264 loop filter (decode.ts, `fastDecode`). */
  fastDecode?: boolean;
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

/** Packs windows into batches; F is what is kept per decoded frame. */
interface Packer<F> {
  /** What to keep of a decoded rgb24 frame (called once per frame; the buffer is the caller's to keep). */
  keep(rgb: Buffer): F;
  readonly size: number;
  add(w: WindowPlan, frames: F[], times: number[]): void;
  take(): PackedBatch<Float32Array | Uint8Array>;
}

/** Float entry: normalized planar float32 per frame, NCTHW per input. */
class FloatPacker implements Packer<Float32Array> {
  private windows: WindowPlan[] = [];
  private frameTimes: number[][] = [];
  private bufs: Record<string, Float32Array> = {};
  private readonly plane: number;
  private readonly lut: Float32Array;

  constructor(
    private readonly layouts: InputLayout[],
    private readonly capacity: number,
    private readonly C: number,
    m: Manifest,
  ) {
    this.plane = C * C;
    this.lut = normalizationTable(m);
    this.reset();
  }

  keep(rgb: Buffer): Float32Array {
    // Rule "convert each decoded frame once": the only conversion, shared by all its uses.
    return convertFrame(rgb, this.C, this.lut);
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

/** uint8 entry: the rgb24 bytes as decoded, [n, T, C, C, 3]; one copy per window frame. */
class BytePacker implements Packer<Buffer> {
  private windows: WindowPlan[] = [];
  private frameTimes: number[][] = [];
  private buf: Uint8Array;
  private readonly frameBytes: number;

  constructor(
    private readonly input: string,
    private readonly T: number,
    private readonly capacity: number,
    C: number,
  ) {
    this.frameBytes = C * C * 3;
    this.buf = new Uint8Array(capacity * T * this.frameBytes);
  }

  keep(rgb: Buffer): Buffer {
    return rgb;
  }

  get size(): number {
    return this.windows.length;
  }

  add(w: WindowPlan, frames: Buffer[], times: number[]): void {
    let at = this.windows.length * this.T * this.frameBytes;
    for (const f of frames) {
      this.buf.set(f, at);
      at += this.frameBytes;
    }
    this.windows.push(w);
    this.frameTimes.push(times);
  }

  take(): PackedBatch<Uint8Array> {
    const n = this.windows.length;
    const data = n === this.capacity ? this.buf : this.buf.slice(0, n * this.T * this.frameBytes);
    const out = { windows: this.windows, inputs: { [this.input]: data }, frameTimes: this.frameTimes };
    this.windows = [];
    this.frameTimes = [];
    this.buf = new Uint8Array(this.capacity * this.T * this.frameBytes);
    return out;
  }
}

function packerFor(m: Manifest, opts: ReadWindowsOptions): Packer<Float32Array> | Packer<Buffer> {
  if ((opts.entry ?? 'float') === 'float') return new FloatPacker(inputLayouts(m), opts.batch, m.crop, m);
  if (!m.uint8) {
    throw new VidxError('MANIFEST_INPUT_INVALID', `the manifest of ${m.architecture} has no uint8 entry to pack for`, { hint: 'rebuild the model bundle, or pack for the float entry' });
  }
  if (m.crop > m.shortSide) {
    throw new VidxError('MANIFEST_INPUT_INVALID', `manifest crop ${m.crop} is larger than its short side ${m.shortSide}`, { hint: 'fix the manifest' });
  }
  return new BytePacker(m.uint8.input, m.frames, opts.batch, m.crop);
}

/**
 * Decode, sample and pack `windows` (any order; yielded in start order) in batches of `batch`.
 * Memory: the frames of the windows in flight plus one batch, independent of the video's length.
 */
export function readWindows(source: string, m: Manifest, opts: ReadWindowsOptions & { entry?: 'float' }): AsyncGenerator<PackedBatch>;
export function readWindows(source: string, m: Manifest, opts: ReadWindowsOptions & { entry: 'uint8' }): AsyncGenerator<PackedBatch<Uint8Array>>;
export function readWindows(source: string, m: Manifest, opts: ReadWindowsOptions): AsyncGenerator<PackedBatch<Float32Array | Uint8Array>>;
export async function* readWindows(source: string, m: Manifest, opts: ReadWindowsOptions): AsyncGenerator<PackedBatch<Float32Array | Uint8Array>> {
  if (!(opts.batch >= 1) || !Number.isInteger(opts.batch)) throw new RangeError(`batch must be a positive integer, got ${opts.batch}`);
  // One generic body; the packer decides what a kept frame is (float planes or the bytes).
  yield* readWith(source, m, opts, packerFor(m, opts) as Packer<unknown>);
}

async function* readWith<F>(source: string, m: Manifest, opts: ReadWindowsOptions, builder: Packer<F>): AsyncGenerator<PackedBatch<Float32Array | Uint8Array>> {
  const { info } = opts;
  const C = m.crop;
  const sorted = [...opts.windows].sort((a, b) => a.start - b.start);
  const stats = opts.stats;
  /** The last kept frame of the previous span, by pts: the next span may need it again. */
  let carry: { pts: number; data: F } | undefined;

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
    const ready = new Map<number, F>();
    const carried = carry && plan.needed.find((i) => ft.pts[i] === carry!.pts);
    if (carry && carried !== undefined) ready.set(carried, carry.data);
    const toDecode = plan.needed.filter((i) => !ready.has(i));
    let nextWindow = 0;
    /** The latest frame in `ready`: kept until a later one arrives (it may be carried to the next span). */
    let lastDecoded = carried ?? -1;

    const flushReady = function* (): Generator<PackedBatch<Float32Array | Uint8Array>> {
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
      fastDecode: opts.fastDecode,
      signal: opts.signal,
      threads: opts.threads,
      log: opts.log,
      onSpawn: opts.onSpawn,
    })) {
      const i = byPts.get(frame.pts)!;
      ready.set(i, builder.keep(frame.rgb));
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
