/**
 * Decode exactly the frames asked for, by their pts, scaled and cropped inside ffmpeg, streamed as
 * rgb24 over a pipe. Memory is one frame's bytes plus the pipe's buffer, whatever the video length.
 *
 * The filter graph (after ffmpeg's automatic rotation, so frames are as displayed, per the
 * contract's "after rotation"):
 *   trim=end_pts=<last+1>   stop decoding right after the last wanted frame (ffmpeg then exits)
 *   select=<pts in list>    keep exactly the wanted frames, by integer pts (no float matching)
 *   format=rgb24            to RGB at the source size first, as PyAV + PyTorch do (decode to RGB,
 *                           then interpolate): scaling in YUV and converting after put the frames
 *                           0.03 (normalized, mean |diff|) from that reference; see decisions.md
 *   scale=<short side S>    bilinear, PyTorchVideo short_side_scale sizes (normalize.ts)
 *   crop=C:C:<center>       torchvision CenterCropVideo offsets (normalize.ts)
 *   showinfo                reports each output frame's pts, which is checked against the list
 * with -copyts (pts stay the container's) and -vsync passthrough (no frame dropped or duplicated).
 * The select expression is a binary search tree over the sorted pts, passed on stdin as a filter
 * script (no command-line length limit, O(log n) per frame).
 */
import { existsSync } from 'node:fs';
import { VidxError } from '../errors.ts';
import { ffmpegDiagnosis, ffmpegPath, httpInputArgs, spawnTool, collectTool } from './ffmpeg.ts';
import { FFMPEG_EXPR } from './normalize.ts';
import type { VideoInfo } from './probe.ts';


export interface DecodeOptions {
  shortSide: number;
  crop: number;
  /**
   * An exact output size instead of short-side scale + centre crop (detection: the detector's
   * torchvision resize, or the action model's whole frame at short side 256). shortSide and crop
   * are then unused.
   */
  size?: { width: number; height: number };
  hwaccel?: boolean;
  /**
   * Skip the H.264/HEVC in-loop deblocking filter (`-skip_loop_filter all`): faster decoding, at
   * the cost of block-edge artifacts that scaling 1080p down to 256 mostly averages away. The
   * figures (speed-up, tensor difference) are in README "Performance".
   */
  fastDecode?: boolean;
  signal?: AbortSignal;
  /** Decoder threads (default: VIDX_THREADS, else ffmpeg's automatic choice). */
  threads?: number;
  /** Where to say why hardware decoding is not used (default: stderr). */
  log?: (msg: string) => void;
  /** Called with the child's pid once spawned (tests). */
  onSpawn?: (pid: number | undefined) => void;
}

export interface DecodedFrame {
  /** Integer pts in the stream's time base. */
  pts: number;
  /** C x C x 3 bytes (or size.width x size.height x 3), rgb24, row-major (a fresh buffer per frame). */
  rgb: Buffer;
}

/** A select expression true exactly for pts in `sorted` (ascending integers). */
export function selectExpression(sorted: readonly number[]): string {
  const build = (lo: number, hi: number): string => {
    if (hi - lo <= 8) {
      const terms: string[] = [];
      for (let i = lo; i < hi; i++) terms.push(`eq(pts,${sorted[i]})`);
      return terms.join('+');
    }
    const mid = (lo + hi) >> 1;
    return `if(lt(pts,${sorted[mid]}),${build(lo, mid)},${build(mid, hi)})`;
  };
  return sorted.length === 0 ? '0' : build(0, sorted.length);
}

let cudaCheck: Promise<string | null> | undefined;

/** null when `-hwaccel cuda` can be used, else why not. */
export function cudaUnavailableReason(): Promise<string | null> {
  cudaCheck ??= (async () => {
    const { stdout, exit } = await collectTool(ffmpegPath(), ['-hide_banner', '-nostdin', '-hwaccels'], { timeoutMs: 15_000 });
    if (exit.code !== 0) return `ffmpeg -hwaccels failed: ${ffmpegDiagnosis(exit.stderr, undefined, 1)}`;
    const methods = stdout.toString('utf8').split('\n').slice(1).map((s) => s.trim()).filter(Boolean);
    if (!methods.includes('cuda')) return `this ffmpeg (${ffmpegPath()}) has no cuda hwaccel (it has: ${methods.join(', ') || 'none'})`;
    if (!existsSync('/dev/nvidiactl')) return 'no NVIDIA GPU device (/dev/nvidiactl) on this machine';
    return null;
  })();
  return cudaCheck;
}

export function decodeArgs(source: string, info: VideoInfo, sorted: readonly number[], o: DecodeOptions & { useCuda: boolean }): string[] {
  const first = sorted[0]!;
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'];
  if (o.useCuda) args.push('-hwaccel', 'cuda');
  const threads = o.threads ?? (Number(process.env.VIDX_THREADS) || 0);
  if (threads > 0) args.push('-threads', String(threads));
  if (o.fastDecode) args.push('-skip_loop_filter', 'all');
  // Seek (relative to the start, as ffmpeg's -ss is) to a little before the first wanted frame;
  // -noaccurate_seek: ffmpeg starts at the keyframe before it and `select` alone picks frames.
  const seek = (first * info.timeBase[0]) / info.timeBase[1] - info.startTime - 0.5;
  if (seek > 0) args.push('-noaccurate_seek', '-ss', seek.toFixed(6));
  args.push(...httpInputArgs(source), '-copyts', '-i', source);
  args.push('-map', `0:${info.streamIndex}`, '-an', '-sn', '-dn');
  args.push('-filter_script:v', 'pipe:0', '-filter_threads', '1');
  args.push('-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  return args;
}

export function filterScript(sorted: readonly number[], o: Pick<DecodeOptions, 'shortSide' | 'crop' | 'size'>): string {
  const last = sorted[sorted.length - 1]!;
  const S = o.shortSide;
  const C = o.crop;
  const head = [`trim=end_pts=${last + 1}`, `select='${selectExpression(sorted)}'`, 'format=rgb24'];
  if (o.size) return [...head, `scale=w=${o.size.width}:h=${o.size.height}:flags=bilinear`, 'showinfo'].join(',');
  return [
    ...head,
    `scale=w='${FFMPEG_EXPR.scaleW(S)}':h='${FFMPEG_EXPR.scaleH(S)}':flags=bilinear`,
    `crop=w=${C}:h=${C}:x='${FFMPEG_EXPR.cropX}':y='${FFMPEG_EXPR.cropY}'`,
    'showinfo',
  ].join(',');
}

/**
 * Yield the frames whose pts are in `wanted` (ascending, unique), in that order, each exactly once.
 * Throws VIDEO_DECODE_FAILED when ffmpeg delivers anything else. Stopping early kills ffmpeg.
 */
export async function* decodeFrames(source: string, info: VideoInfo, wanted: readonly number[], o: DecodeOptions): AsyncGenerator<DecodedFrame> {
  if (wanted.length === 0) return;
  for (let i = 1; i < wanted.length; i++) if (!(wanted[i]! > wanted[i - 1]!)) throw new RangeError('wanted pts must be ascending and unique');
  let useCuda = false;
  if (o.hwaccel) {
    const why = await cudaUnavailableReason();
    if (why === null) useCuda = true;
    else (o.log ?? ((m: string) => process.stderr.write(`vidx: ${m}\n`)))(`hardware decoding not used: ${why}; decoding in software`);
  }
  const frameBytes = o.size ? o.size.width * o.size.height * 3 : o.crop * o.crop * 3;
  const infoPts: number[] = [];
  let timeBase: string | undefined;
  let wake: (() => void) | undefined;
  const onLine = (line: string): void => {
    if (!line.includes('Parsed_showinfo')) return;
    const tb = /config in time_base: (\d+\/\d+)/.exec(line);
    if (tb) timeBase = tb[1];
    const m = /\bn:\s*\d+\s+pts:\s*(-?\d+)/.exec(line);
    if (m) {
      infoPts.push(Number(m[1]));
      wake?.();
    }
  };
  const proc = spawnTool(ffmpegPath(), decodeArgs(source, info, wanted, { ...o, useCuda }), { signal: o.signal, onStderrLine: onLine });
  o.onSpawn?.(proc.pid);
  proc.stdin.end(filterScript(wanted, o));
  let exited = false;
  void proc.closed.then(() => {
    exited = true;
    wake?.();
  });
  const expectedTb = `${info.timeBase[0]}/${info.timeBase[1]}`;
  const fail = async (why: string): Promise<never> => {
    proc.kill();
    const exit = await proc.closed;
    if (exit.killedFor === 'abort' || exit.killedFor === 'timeout') throw new VidxError(exit.killedFor === 'abort' ? 'ABORTED' : 'FFMPEG_TIMEOUT', `decoding ${source}: ${exit.killedFor}`);
    throw new VidxError('VIDEO_DECODE_FAILED', `decoding ${source}: ${why}: ${ffmpegDiagnosis(exit.stderr, source)}`, { hint: 'the file may be damaged; re-encoding it usually helps' });
  };
  let n = 0;
  let buf = Buffer.allocUnsafe(frameBytes);
  let fill = 0;
  try {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const take = Math.min(frameBytes - fill, chunk.length - off);
        chunk.copy(buf, fill, off, off + take);
        fill += take;
        off += take;
        if (fill < frameBytes) break;
        // A whole frame: its pts is the n-th showinfo line (showinfo logs before the frame is written).
        while (infoPts.length <= n && !exited) await new Promise<void>((r) => (wake = r));
        if (timeBase !== undefined && timeBase !== expectedTb) await fail(`ffmpeg works in time base ${timeBase}, ffprobe reported ${expectedTb}`);
        const pts = infoPts[n];
        if (pts === undefined) await fail(`no pts reported for output frame ${n}`);
        if (n >= wanted.length || pts !== wanted[n]) await fail(`output frame ${n} has pts ${pts}, expected ${wanted[n] ?? 'no more frames'}`);
        yield { pts: pts!, rgb: buf };
        n++;
        buf = Buffer.allocUnsafe(frameBytes);
        fill = 0;
      }
    }
    const exit = await proc.closed;
    if (exit.killedFor) await fail('stopped');
    if (exit.code !== 0) {
      throw new VidxError(/Invalid data|corrupt|error while decoding/i.test(exit.stderr) ? 'VIDEO_CORRUPT' : 'VIDEO_DECODE_FAILED', `decoding ${source} failed: ${ffmpegDiagnosis(exit.stderr, source)}`, {
        hint: 'the file may be damaged; re-encoding it usually helps',
      });
    }
    if (fill !== 0) await fail(`a partial frame (${fill} of ${frameBytes} bytes) at the end`);
    if (n !== wanted.length) {
      const missing = wanted.slice(n, n + 3).join(', ');
      await fail(`ffmpeg delivered ${n} of ${wanted.length} frames (first missing pts: ${missing})`);
    }
  } finally {
    proc.kill();
    await proc.closed;
  }
}
