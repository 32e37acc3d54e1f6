/**
 * Decode + sample + pack throughput and memory for SlowFast windows (issue 3, "Speed and memory";
 * issue 10, "Throughput"), side by side in one run:
 *   - vidx, uint8 entry (what analyze and the worker run: the frames' bytes, packed per window);
 *   - vidx, float entry (normalized float32 NCTHW per input: inspect-window, parity);
 *   - ffmpeg alone: the same command and filter chain (same frames selected, RGB, scaled,
 *     cropped) writing to null: the floor; the CPU-seconds ratio vidx/ffmpeg is the overhead;
 *   - vidx, uint8 entry with --fast-decode (H.264 loop filter skipped): speed-up and how far its
 *     bytes are from the normal decode's (normalized units, as the model sees them).
 *
 *   npm run bench -- decode
 *
 * Generates (once, cached in the temp folder) a 60 s 1080p30 H.264 video with ffmpeg, and a 10-minute
 * 1080p30 video made by concatenating it ten times (stream copy: same content and codec, no
 * re-encode). Reads every SlowFast window (T=32, r=2, alpha=4, F=30, S=256, C=256, mean .45,
 * std .225) at stride D through readWindows, consuming and dropping the batches, and prints:
 *   - video seconds per second of wall time (target >= 4x realtime on 2 cores);
 *   - peak RSS of this process and of the ffmpeg child (sampled every 100 ms), and their sum (< 1 GB);
 *   - the same for the 10-minute video, to show memory does not grow with length.
 * VIDX_BENCH_LONG=0 skips the 10-minute run; VIDX_BENCH_BATCH sets the batch (default 4).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manifest } from '../core/model/manifest.ts';
import { manifestFor } from '../models/manifests.ts';
import { decodeArgs, filterScript } from '../core/video/decode.ts';
import { runTool, ffmpegPath, spawnTool } from '../core/video/ffmpeg.ts';
import { listFrameTimes } from '../core/video/frame-times.ts';
import { planFrames } from '../core/video/frame-plan.ts';
import { probe, type VideoInfo } from '../core/video/probe.ts';
import { readWindows, type PackEntry } from '../core/video/window-source.ts';
import { frameInstants, planWindows } from '../core/video/windows.ts';
import { peakRssOfPid } from './rss.ts';

// The real SlowFast R50 manifest: the settings the product uses (labels do not matter to decoding).
const manifest: Manifest = manifestFor('slowfast_r50', { kind: 'synthetic', rule: 'bench' }, false);

const cacheDir = join(tmpdir(), 'vidx-bench');

async function ensureVideos(): Promise<{ oneMinute: string; tenMinutes: string }> {
  mkdirSync(cacheDir, { recursive: true });
  const oneMinute = join(cacheDir, '1080p30-60s.mp4');
  const tenMinutes = join(cacheDir, '1080p30-600s.mp4');
  if (!existsSync(oneMinute)) {
    const t0 = performance.now();
    const part = `${oneMinute}.part.mp4`;
    await runTool(
      ffmpegPath(),
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-t', '60', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', part],
      'generating the bench video',
    );
    renameSync(part, oneMinute);
    console.log(`generated ${oneMinute} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (!existsSync(tenMinutes)) {
    const list = join(cacheDir, 'concat.txt');
    writeFileSync(list, `${Array(10).fill(`file '${oneMinute}'`).join('\n')}\n`);
    const part = `${tenMinutes}.part.mp4`;
    await runTool(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', part], 'concatenating the bench video');
    renameSync(part, tenMinutes);
  }
  return { oneMinute, tenMinutes };
}

/**
 * CPU seconds used so far by this process and its waited-for children (ffmpeg, ffprobe), from
 * /proc/self/stat (utime, stime, cutime, cstime in clock ticks of 1/100 s on Linux).
 */
function cpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command name: field 3 is state, so utime..cstime (fields 14..17) are at 11..14 here.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / 100;
}

interface Figures {
  seconds: number;
  wall: number;
  cpu: number;
  windows: number;
  frames: number;
  nodePeak: number;
  ffmpegPeak: number;
  /** Bytes handed to the model per window (all inputs). */
  bytesPerWindow: number;
  /** The first windows' inputs (uint8 runs), to compare decodes. */
  sample: Uint8Array[];
}

const SAMPLE_WINDOWS = 4;

async function measure(path: string, batch: number, entry: PackEntry, fastDecode = false): Promise<Figures> {
  const info = await probe(path);
  const windows = planWindows(info.duration, manifest);
  const pids: number[] = [];
  let nodePeak = process.memoryUsage().rss;
  let ffmpegPeak = 0;
  const sample = (): void => {
    nodePeak = Math.max(nodePeak, process.memoryUsage().rss);
    for (const pid of pids) ffmpegPeak = Math.max(ffmpegPeak, peakRssOfPid(pid));
  };
  const timer = setInterval(sample, 100);
  const stats = { decoded: 0, converted: 0, spans: 0 };
  const kept: Uint8Array[] = [];
  let bytesPerWindow = 0;
  const t0 = performance.now();
  const c0 = cpuSeconds();
  let n = 0;
  try {
    for await (const b of readWindows(path, manifest, { info, windows, batch, entry, fastDecode, stats, onSpawn: (pid) => pid && pids.push(pid) })) {
      const k = b.windows.length;
      bytesPerWindow = Object.values(b.inputs).reduce((sum, a) => sum + a.byteLength, 0) / k;
      for (const a of Object.values(b.inputs)) {
        if (a instanceof Uint8Array && kept.length < SAMPLE_WINDOWS) kept.push(a.slice(0, Math.min(SAMPLE_WINDOWS - kept.length, k) * (a.length / k)));
      }
      n += k;
      sample();
    }
  } finally {
    clearInterval(timer);
  }
  const wall = (performance.now() - t0) / 1000;
  return { seconds: info.duration, wall, cpu: cpuSeconds() - c0, windows: n, frames: stats.decoded, nodePeak, ffmpegPeak, bytesPerWindow, sample: kept };
}

/**
 * ffmpeg alone: the very command vidx runs (decode.ts decodeArgs + filterScript, the same frames
 * selected, RGB, scaled, cropped) but writing rgb24 to null, without showinfo, and with nothing
 * reading a pipe. The frame list is made beforehand and not timed.
 */
async function measureFfmpegAlone(path: string): Promise<{ wall: number; cpu: number; frames: number }> {
  const info: VideoInfo = await probe(path);
  const windows = planWindows(info.duration, manifest);
  const ft = await listFrameTimes(path, info, 0, frameInstants(windows[windows.length - 1]!, manifest)[manifest.frames - 1]!);
  const wanted = planFrames(ft.times, windows, manifest).needed.map((i) => ft.pts[i]!);
  const args = decodeArgs(path, info, wanted, { shortSide: manifest.shortSide, crop: manifest.crop, useCuda: false });
  args.splice(args.length - 7, 7, '-vsync', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'null', '-');
  const script = filterScript(wanted, manifest).replace(/,showinfo$/, '');
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const proc = spawnTool(ffmpegPath(), args);
  proc.stdin.end(script);
  proc.stdout.resume();
  const exit = await proc.closed;
  if (exit.code !== 0) throw new Error(`ffmpeg alone failed: ${exit.stderr.slice(-500)}`);
  return { wall: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0, frames: wanted.length };
}

const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MB`;

function report(label: string, f: Figures): void {
  console.log(
    `${label}: ${f.windows} windows (${f.frames} frames decoded) of ${f.seconds.toFixed(0)} s in ${f.wall.toFixed(1)} s = ` +
      `${(f.seconds / f.wall).toFixed(2)}x realtime (wall); CPU ${f.cpu.toFixed(1)} s = ${(f.seconds / f.cpu).toFixed(2)} video-s per CPU-s, ` +
      `i.e. ${((2 * f.seconds) / f.cpu).toFixed(2)}x realtime on 2 free cores; ${(f.bytesPerWindow / 1e6).toFixed(1)} MB to the model per window; ` +
      `peak RSS node ${mb(f.nodePeak)} + ffmpeg ${mb(f.ffmpegPeak)} = ${mb(f.nodePeak + f.ffmpegPeak)}`,
  );
}

/** mean and max |a - b| over the sampled windows, in the model's normalized units (/255/std). */
function tensorDifference(a: Uint8Array[], b: Uint8Array[]): { mean: number; max: number } {
  let sum = 0;
  let count = 0;
  let max = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    for (let j = 0; j < Math.min(x.length, y.length); j++) {
      const d = Math.abs(x[j]! - y[j]!);
      sum += d;
      max = Math.max(max, d);
    }
    count += Math.min(x.length, y.length);
  }
  const scale = 255 * manifest.std[0];
  return { mean: sum / Math.max(count, 1) / scale, max: max / scale };
}

export async function run(): Promise<void> {
  const batch = Number(process.env.VIDX_BENCH_BATCH) || 4;
  const { oneMinute, tenMinutes } = await ensureVideos();
  console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores (wall figures suffer on a shared box; CPU figures do not)`);
  console.log(`decode + sample + pack, SlowFast T=32 r=2 alpha=4 F=30 S=256 C=256, stride D, batch ${batch}, ffmpeg ${ffmpegPath()}`);
  const alone = await measureFfmpegAlone(oneMinute);
  console.log(`60 s 1080p30 H.264, ffmpeg alone (same command and filter chain, ${alone.frames} frames to null): ${alone.wall.toFixed(1)} s wall, CPU ${alone.cpu.toFixed(1)} s`);
  const bytes = await measure(oneMinute, batch, 'uint8');
  report('60 s 1080p30 H.264, vidx uint8 entry', bytes);
  console.log(`  vidx uint8 / ffmpeg alone: CPU ${(bytes.cpu / alone.cpu).toFixed(2)} (target <= 1.15), wall ${(bytes.wall / alone.wall).toFixed(2)}`);
  const floats = await measure(oneMinute, batch, 'float');
  report('60 s 1080p30 H.264, vidx float entry', floats);
  console.log(`  vidx float / ffmpeg alone: CPU ${(floats.cpu / alone.cpu).toFixed(2)}, wall ${(floats.wall / alone.wall).toFixed(2)}`);
  const fast = await measure(oneMinute, batch, 'uint8', true);
  report('60 s 1080p30 H.264, vidx uint8 entry, --fast-decode', fast);
  const diff = tensorDifference(bytes.sample, fast.sample);
  console.log(
    `  --fast-decode: CPU ${(bytes.cpu / fast.cpu).toFixed(2)}x less, wall ${(bytes.wall / fast.wall).toFixed(2)}x faster; ` +
      `model input vs the normal decode over the first ${SAMPLE_WINDOWS} windows: mean |diff| ${diff.mean.toFixed(4)}, max ${diff.max.toFixed(2)} (normalized units)`,
  );
  if (process.env.VIDX_BENCH_LONG !== '0') {
    const ten = await measure(tenMinutes, batch, 'uint8');
    report('600 s 1080p30 H.264, vidx uint8 entry', ten);
    const growth = ten.nodePeak + ten.ffmpegPeak - (bytes.nodePeak + bytes.ffmpegPeak);
    console.log(`RSS growth from 1 to 10 minutes: ${mb(growth)}`);
  }
}
