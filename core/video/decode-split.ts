/**
 * One decode, several outputs: frames wanted at different sizes (detection's keyframe images at
 * the detector's size and action clips at short side 256) from ONE ffmpeg pass, each frame decoded
 * once. The filter graph, after ffmpeg's automatic rotation:
 *
 *   [0:v] trim=end_pts=<last+1>, select=<pts in the union>, format=rgb24, split=K
 *   [k]   select=<pts of output k>, scale=w=W_k:h=H_k:flags=bilinear, showinfo@o<k>  -> pipe:1, pipe:3, ...
 *
 * which is decode.ts's chain (trim, select, rgb24 at the source size, bilinear scale, showinfo)
 * with the decode shared, so each output's bytes are those a decodeFrames pass at its size gives.
 * Output k goes to the child's fd 1 for k = 0 and fd k + 2 after; each output's frames are
 * checked against its wanted pts by its showinfo instance. All frames are collected in memory (the
 * callers keep every frame anyway), one buffer per output sliced per frame.
 */
import { VidxError } from '../errors.ts';
import { selectExpression } from './decode.ts';
import { ffmpegDiagnosis, ffmpegPath, spawnTool } from './ffmpeg.ts';
import type { VideoInfo } from './probe.ts';

export interface SplitOutput {
  /** Ascending, unique pts. */
  wanted: readonly number[];
  size: { width: number; height: number };
}

export interface SplitDecodeOptions {
  signal?: AbortSignal;
  /** Decoder threads (default: VIDX_THREADS, else ffmpeg's automatic choice). */
  threads?: number;
}

/** The filter graph for `outputs` (see the module comment); labels [o0], [o1], ... */
export function splitFilterGraph(streamIndex: number, outputs: readonly SplitOutput[]): string {
  const union = [...new Set(outputs.flatMap((o) => o.wanted))].sort((a, b) => a - b);
  const last = union[union.length - 1]!;
  const head = `[0:${streamIndex}]trim=end_pts=${last + 1},select='${selectExpression(union)}',format=rgb24,split=${outputs.length}${outputs.map((_, k) => `[s${k}]`).join('')}`;
  const tails = outputs.map((o, k) => `[s${k}]select='${selectExpression(o.wanted)}',scale=w=${o.size.width}:h=${o.size.height}:flags=bilinear,showinfo@o${k}[o${k}]`);
  return [head, ...tails].join(';\n');
}

export function splitDecodeArgs(source: string, info: VideoInfo, outputs: readonly SplitOutput[], o: SplitDecodeOptions): string[] {
  const first = Math.min(...outputs.map((x) => x.wanted[0]!));
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'];
  const threads = o.threads ?? (Number(process.env.VIDX_THREADS) || 0);
  if (threads > 0) args.push('-threads', String(threads));
  // As decode.ts: seek a little before the first wanted frame, `select` alone picks frames.
  const seek = (first * info.timeBase[0]) / info.timeBase[1] - info.startTime - 0.5;
  if (seek > 0) args.push('-noaccurate_seek', '-ss', seek.toFixed(6));
  args.push('-copyts', '-i', source, '-filter_complex_script', 'pipe:0', '-filter_threads', '1');
  outputs.forEach((_, k) => args.push('-map', `[o${k}]`, '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', k === 0 ? 'pipe:1' : `pipe:${k + 2}`));
  return args;
}

/** Per output, its frames by pts (each a view of the output's one buffer). Outputs with nothing wanted get an empty map. */
export async function decodeFramesSplit(source: string, info: VideoInfo, outputs: readonly SplitOutput[], o: SplitDecodeOptions = {}): Promise<Map<number, Buffer>[]> {
  for (const out of outputs) for (let i = 1; i < out.wanted.length; i++) if (!(out.wanted[i]! > out.wanted[i - 1]!)) throw new RangeError('wanted pts must be ascending and unique');
  const live = outputs.map((out, k) => ({ out, k })).filter((x) => x.out.wanted.length > 0);
  const result = outputs.map(() => new Map<number, Buffer>());
  if (live.length === 0) return result;
  const used = live.map((x) => x.out);
  const infoPts: number[][] = used.map(() => []);
  const timeBases: string[] = [];
  const onLine = (line: string): void => {
    const m = /^\[showinfo@o(\d+) @/.exec(line);
    if (!m) return;
    const tb = /config in time_base: (\d+\/\d+)/.exec(line);
    if (tb) timeBases.push(tb[1]!);
    const p = /\bn:\s*\d+\s+pts:\s*(-?\d+)/.exec(line);
    if (p) infoPts[Number(m[1])]?.push(Number(p[1]));
  };
  const proc = spawnTool(ffmpegPath(), splitDecodeArgs(source, info, used, o), { signal: o.signal, onStderrLine: onLine, extraOutputs: used.length - 1 });
  proc.stdin.end(splitFilterGraph(info.streamIndex, used));
  const streams = [proc.stdout, ...proc.extra];
  const collect = async (s: NodeJS.ReadableStream): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  // Read every pipe at once: ffmpeg writes the outputs interleaved and would block on a full one.
  const bytes = await Promise.all(streams.map(collect));
  const exit = await proc.closed;
  if (exit.killedFor === 'abort' || exit.killedFor === 'timeout') throw new VidxError(exit.killedFor === 'abort' ? 'ABORTED' : 'FFMPEG_TIMEOUT', `decoding ${source}: ${exit.killedFor}`);
  if (exit.code !== 0) {
    throw new VidxError(/Invalid data|corrupt|error while decoding/i.test(exit.stderr) ? 'VIDEO_CORRUPT' : 'VIDEO_DECODE_FAILED', `decoding ${source} failed: ${ffmpegDiagnosis(exit.stderr, source)}`, {
      hint: 'the file may be damaged; re-encoding it usually helps',
    });
  }
  const fail = (why: string): never => {
    throw new VidxError('VIDEO_DECODE_FAILED', `decoding ${source}: ${why}`, { hint: 'the file may be damaged; re-encoding it usually helps' });
  };
  const expectedTb = `${info.timeBase[0]}/${info.timeBase[1]}`;
  if (timeBases.some((tb) => tb !== expectedTb)) fail(`ffmpeg works in time base ${timeBases.find((tb) => tb !== expectedTb)}, ffprobe reported ${expectedTb}`);
  used.forEach((out, k) => {
    const frameBytes = out.size.width * out.size.height * 3;
    const got = infoPts[k]!;
    if (bytes[k]!.length !== out.wanted.length * frameBytes) fail(`output ${k} has ${bytes[k]!.length} bytes, expected ${out.wanted.length} frames of ${frameBytes}`);
    if (got.length !== out.wanted.length || got.some((p, i) => p !== out.wanted[i])) {
      const i = got.findIndex((p, j) => p !== out.wanted[j]);
      fail(`output ${k} delivered ${got.length} of ${out.wanted.length} frames${i >= 0 ? ` (frame ${i} has pts ${got[i]}, expected ${out.wanted[i]})` : ''}`);
    }
    const map = result[live[k]!.k]!;
    out.wanted.forEach((pts, i) => map.set(pts, bytes[k]!.subarray(i * frameBytes, (i + 1) * frameBytes)));
  });
  return result;
}
