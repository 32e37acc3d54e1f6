/**
 * Decode + sample + pack throughput and memory for SlowFast windows (issue 3, "Speed and memory").
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
import { runTool, ffmpegPath } from '../core/video/ffmpeg.ts';
import { probe } from '../core/video/probe.ts';
import { readWindows } from '../core/video/window-source.ts';
import { planWindows } from '../core/video/windows.ts';
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
}

async function measure(path: string, batch: number): Promise<Figures> {
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
  const t0 = performance.now();
  const c0 = cpuSeconds();
  let n = 0;
  try {
    for await (const b of readWindows(path, manifest, { info, windows, batch, stats, onSpawn: (pid) => pid && pids.push(pid) })) {
      n += b.windows.length;
      sample();
    }
  } finally {
    clearInterval(timer);
  }
  const wall = (performance.now() - t0) / 1000;
  return { seconds: info.duration, wall, cpu: cpuSeconds() - c0, windows: n, frames: stats.decoded, nodePeak, ffmpegPeak };
}

const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MB`;

function report(label: string, f: Figures): void {
  console.log(
    `${label}: ${f.windows} windows (${f.frames} frames converted) of ${f.seconds.toFixed(0)} s in ${f.wall.toFixed(1)} s = ` +
      `${(f.seconds / f.wall).toFixed(2)}x realtime (wall); CPU ${f.cpu.toFixed(1)} s = ${(f.seconds / f.cpu).toFixed(2)} video-s per CPU-s, ` +
      `i.e. ${((2 * f.seconds) / f.cpu).toFixed(2)}x realtime on 2 free cores; peak RSS node ${mb(f.nodePeak)} + ffmpeg ${mb(f.ffmpegPeak)} = ${mb(f.nodePeak + f.ffmpegPeak)}`,
  );
}

export async function run(): Promise<void> {
  const batch = Number(process.env.VIDX_BENCH_BATCH) || 4;
  const { oneMinute, tenMinutes } = await ensureVideos();
  console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores (wall figures suffer on a shared box; CPU figures do not)`);
  console.log(`decode + sample + pack, SlowFast T=32 r=2 alpha=4 F=30 S=256 C=256, stride D, batch ${batch}, ffmpeg ${ffmpegPath()}`);
  const one = await measure(oneMinute, batch);
  report('60 s 1080p30 H.264', one);
  if (process.env.VIDX_BENCH_LONG !== '0') {
    const ten = await measure(tenMinutes, batch);
    report('600 s 1080p30 H.264', ten);
    const growth = ten.nodePeak + ten.ffmpegPeak - (one.nodePeak + one.ffmpegPeak);
    console.log(`RSS growth from 1 to 10 minutes: ${mb(growth)}`);
  }
}
