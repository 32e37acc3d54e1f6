/**
 * End-to-end `analyze` throughput vs inference-only throughput, and memory (issue 3, "Speed and
 * memory"):
 *
 *   npm run bench -- analyze
 *
 * On a 60 s 1080p30 H.264 video (generated once with ffmpeg, cached in the temp folder; the same
 * file and command as bench/decode.bench.ts), with synthesized slowfast_r50 and i3d_r50 on the CPU
 * at 2 onnxruntime threads, batch 1 (the CLI's CPU default is 2; 1 keeps the pipeline finest):
 *   - end to end: scoreWindows over the windows at stride D (decode + sample + pack overlapped
 *     with inference, softmax, top-k), in video seconds per second;
 *   - inference only: the same windows packed beforehand, then only engine.run timed;
 *   - ratio end-to-end / inference-only (target >= 0.8: the model is the bottleneck);
 *   - decode only: the same windows read and packed, nothing inferred (CPU seconds of node + ffmpeg);
 *   - the sum bound: (decode CPU + inference CPU) / cores, the best wall time two stages sharing
 *     the cores can reach; end to end vs that bound;
 *   - bytes handed to the model per window;
 * each for the uint8 entry (what analyze runs) and, for SlowFast, the float entry beside it.
 *   - peak RSS (Node's maxRSS + the ffmpeg child's VmHWM) of the end-to-end run (target < 1 GB);
 *   - the same peak on a 10-minute video (the 60 s one concatenated ten times, stream copy) with
 *     i3d_r50 at a 20 s stride (30 windows, the whole file decoded), against the 1-minute run.
 * Every measurement runs in its own child process so one's memory does not count in another's.
 *
 * Both models score all 28 windows of the minute (about 4 minutes in all on 2 cores).
 * VIDX_BENCH_QUICK=1 scores only SlowFast's first 12 (start-up then weighs more in the ratio);
 * VIDX_BENCH_LONG=0 skips the 10-minute run.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { scoreWindows } from '../core/analyze.ts';
import { InferenceEngine } from '../core/model/engine.ts';
import type { Architecture } from '../core/model/manifest.ts';
import { runTool, ffmpegPath } from '../core/video/ffmpeg.ts';
import { probe } from '../core/video/probe.ts';
import { readWindows } from '../core/video/window-source.ts';
import { planWindows } from '../core/video/windows.ts';
import { synthesize } from '../models/convert.ts';
import { peakRssOfPid } from './rss.ts';

const CHILD_ENV = 'VIDX_BENCH_ANALYZE';
const THREADS = 2;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(tmpdir(), 'vidx-bench');

interface ChildTask {
  mode: 'e2e' | 'infer' | 'decode';
  entry: 'float' | 'uint8';
  video: string;
  manifest: string;
  /** Score only the first `limit` windows (null: all). */
  limit: number | null;
  stride: number | null;
  batch: number;
}

interface ChildResult {
  windows: number;
  videoSeconds: number;
  wallS: number;
  /** Sum of engine.run times. */
  inferS: number;
  /** Time the loop waited on decode (not hidden behind inference); e2e only. */
  waitS: number;
  /** Of which, the wait for the first batch (nothing to overlap it with: start-up). */
  firstWaitS: number;
  nodePeakMB: number;
  ffmpegPeakMB: number;
  load: number[];
  /** CPU seconds of this process and its waited-for children over the measured part. */
  cpuS: number;
  bytesPerWindow: number;
}

/** CPU seconds of this process and its waited-for children (utime, stime, cutime, cstime). */
function cpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / 100;
}

// ---------------------------------------------------------------- child: one measurement

async function child(task: ChildTask): Promise<ChildResult> {
  const engine = await InferenceEngine.load(task.manifest, { device: 'cpu', threads: THREADS, entry: task.entry, log: () => undefined });
  try {
    await engine.warmup();
    const info = await probe(task.video);
    const all = planWindows(info.duration, engine.manifest, task.stride ?? undefined);
    const windows = task.limit === null ? all : all.slice(0, task.limit);
    const stride = windows.length > 1 ? windows[1]!.start - windows[0]!.start : windows[0]!.end - windows[0]!.start;
    // Video seconds the windows stand for: at stride D they tile it; at a larger stride each
    // window stands for its stride.
    const videoSeconds = windows.length * stride;
    let inferMs = 0;
    let waitMs = 0;
    let firstWaitMs = -1;
    let ffmpegPeak = 0;
    const pids: number[] = [];
    const sample = setInterval(() => {
      for (const pid of pids) ffmpegPeak = Math.max(ffmpegPeak, peakRssOfPid(pid));
    }, 100);
    const t0 = performance.now();
    const c0 = cpuSeconds();
    let cpuS = 0;
    try {
      if (task.mode === 'decode') {
        for await (const b of readWindows(task.video, engine.manifest, { info, windows, batch: task.batch, entry: task.entry, onSpawn: (pid) => pid && pids.push(pid) })) void b;
        cpuS = cpuSeconds() - c0;
      } else if (task.mode === 'e2e') {
        await scoreWindows(task.video, engine, {
          info,
          windows,
          batch: task.batch,
          topK: 5,
          onBatch: (t) => {
            inferMs += t.inferMs;
            waitMs += t.waitMs;
            if (firstWaitMs < 0) firstWaitMs = t.waitMs;
          },
          onSpawn: (pid) => pid && pids.push(pid),
        });
        cpuS = cpuSeconds() - c0;
      } else {
        const packed: Array<{ inputs: Record<string, Float32Array | Uint8Array>; n: number }> = [];
        for await (const b of readWindows(task.video, engine.manifest, { info, windows, batch: task.batch, entry: task.entry })) packed.push({ inputs: b.inputs, n: b.windows.length });
        for (const b of packed) {
          const t = performance.now();
          const c = cpuSeconds();
          await engine.run(b.inputs, b.n);
          cpuS += cpuSeconds() - c;
          inferMs += performance.now() - t;
        }
      }
    } finally {
      clearInterval(sample);
    }
    const wallMs = task.mode === 'infer' ? inferMs : performance.now() - t0;
    return {
      windows: windows.length,
      videoSeconds,
      wallS: wallMs / 1000,
      inferS: inferMs / 1000,
      waitS: waitMs / 1000,
      firstWaitS: Math.max(0, firstWaitMs) / 1000,
      nodePeakMB: process.resourceUsage().maxRSS / 1024,
      ffmpegPeakMB: ffmpegPeak / 2 ** 20,
      load: loadavg().map((x) => +x.toFixed(2)),
      cpuS,
      bytesPerWindow: engine.bytesPerWindow,
    };
  } finally {
    await engine.close();
  }
}

const childTask = process.env[CHILD_ENV];
if (childTask) {
  const result = await child(JSON.parse(childTask) as ChildTask);
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------- parent: set-up and report

const exec = promisify(execFile);

function commandFor(task: ChildTask): string {
  return `${CHILD_ENV}='${JSON.stringify(task)}' node bin/run-ts.js bench/analyze.bench.ts`;
}

async function measure(task: ChildTask): Promise<ChildResult> {
  const { stdout } = await exec(process.execPath, [join(ROOT, 'bin/run-ts.js'), join(ROOT, 'bench/analyze.bench.ts')], {
    cwd: ROOT,
    env: { ...process.env, [CHILD_ENV]: JSON.stringify(task) },
    maxBuffer: 16 * 1024 * 1024,
  });
  const last = stdout.trim().split('\n').at(-1)!;
  return JSON.parse(last) as ChildResult;
}

async function ensureVideos(): Promise<{ oneMinute: string; tenMinutes: string }> {
  mkdirSync(cacheDir, { recursive: true });
  const oneMinute = join(cacheDir, '1080p30-60s.mp4');
  const tenMinutes = join(cacheDir, '1080p30-600s.mp4');
  const quiet = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
  if (!existsSync(oneMinute)) {
    const part = `${oneMinute}.analyze-part.mp4`;
    const args = [...quiet, '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-t', '60', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', part];
    console.log(`generating: ffmpeg ${args.join(' ')}`);
    await runTool(ffmpegPath(), args, 'generating the bench video');
    renameSync(part, oneMinute);
  }
  if (!existsSync(tenMinutes)) {
    const list = join(cacheDir, 'concat-analyze.txt');
    writeFileSync(list, `${Array(10).fill(`file '${oneMinute}'`).join('\n')}\n`);
    const part = `${tenMinutes}.analyze-part.mp4`;
    await runTool(ffmpegPath(), [...quiet, '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', part], 'concatenating the bench video');
    renameSync(part, tenMinutes);
  }
  return { oneMinute, tenMinutes };
}

async function ensureModel(arch: Architecture): Promise<string> {
  const dir = join(cacheDir, 'models');
  const path = join(dir, `${arch}.json`);
  if (!existsSync(path)) await synthesize(arch, dir);
  return path;
}

const f1 = (x: number): string => x.toFixed(2);

export async function run(): Promise<void> {
  const { oneMinute, tenMinutes } = await ensureVideos();
  const full = process.env.VIDX_BENCH_QUICK !== '1';
  console.log(`video: ${oneMinute} (60 s, 1920x1080, 30 fps, H.264); onnxruntime CPU, ${THREADS} threads; batch 1; CPU seconds include the ffmpeg children`);
  const cases: Array<{ arch: Architecture; limit: number | null; entry: 'uint8' | 'float' }> = [
    { arch: 'i3d_r50', limit: null, entry: 'uint8' },
    { arch: 'slowfast_r50', limit: full ? null : 12, entry: 'uint8' },
    { arch: 'slowfast_r50', limit: full ? null : 12, entry: 'float' },
  ];
  let oneMinutePeak = 0;
  for (const c of cases) {
    const manifest = await ensureModel(c.arch);
    const base = { video: oneMinute, manifest, limit: c.limit, stride: null, batch: 1, entry: c.entry };
    const e2eTask: ChildTask = { mode: 'e2e', ...base };
    const inferTask: ChildTask = { mode: 'infer', ...base };
    const decodeTask: ChildTask = { mode: 'decode', ...base };
    const e2e = await measure(e2eTask);
    const inf = await measure(inferTask);
    const dec = await measure(decodeTask);
    const e2eRate = e2e.videoSeconds / e2e.wallS;
    const infRate = inf.videoSeconds / inf.wallS;
    const bound = (dec.cpuS + inf.cpuS) / THREADS;
    const peak = e2e.nodePeakMB + e2e.ffmpegPeakMB;
    if (c.arch === 'i3d_r50') oneMinutePeak = peak;
    console.log(`\n${c.arch}, ${c.entry} entry (${(e2e.bytesPerWindow / 1e6).toFixed(1)} MB to the model per window): ${e2e.windows} windows at stride D = ${f1(e2e.videoSeconds)} s of video${c.limit === null ? '' : ` (first ${c.limit} windows only: VIDX_BENCH_QUICK=1; start-up weighs more in a short run)`}`);
    console.log(`  end to end     ${f1(e2eRate)} video-s/s  (${f1(e2e.wallS)} s wall, ${f1(e2e.cpuS)} CPU-s; in engine.run ${f1(e2e.inferS)} s; waiting on decode ${f1(e2e.waitS)} s, of which ${f1(e2e.firstWaitS)} s for the first batch; load ${e2e.load.join(' ')})`);
    console.log(`    command: ${commandFor(e2eTask)}`);
    console.log(`  inference only ${f1(infRate)} video-s/s  (${f1(inf.wallS)} s in engine.run, ${f1(inf.cpuS)} CPU-s; load ${inf.load.join(' ')})`);
    console.log(`  decode only    ${f1(dec.wallS)} s wall, ${f1(dec.cpuS)} CPU-s (node + ffmpeg)`);
    console.log(`  ratio end-to-end / inference-only: ${f1(e2eRate / infRate)} (target >= 0.8)`);
    console.log(`  sum bound (decode CPU + inference CPU) / ${THREADS} cores = ${f1(bound)} s; end to end / bound: ${f1(e2e.wallS / bound)}`);
    console.log(`  peak RSS end to end: ${peak.toFixed(0)} MB (node ${e2e.nodePeakMB.toFixed(0)} MB + ffmpeg ${e2e.ffmpegPeakMB.toFixed(0)} MB; target < 1024 MB)`);
  }
  if (process.env.VIDX_BENCH_LONG !== '0') {
    const manifest = await ensureModel('i3d_r50');
    const task: ChildTask = { mode: 'e2e', entry: 'uint8', video: tenMinutes, manifest, limit: null, stride: 20, batch: 1 };
    const long = await measure(task);
    const peak = long.nodePeakMB + long.ffmpegPeakMB;
    console.log(`\n10-minute video (${tenMinutes}, 1080p30), i3d_r50 uint8 entry, stride 20 s: ${long.windows} windows, whole file decoded`);
    console.log(`  end to end ${f1(long.wallS)} s wall; peak RSS ${peak.toFixed(0)} MB (node ${long.nodePeakMB.toFixed(0)} + ffmpeg ${long.ffmpegPeakMB.toFixed(0)}); 1-minute i3d run: ${oneMinutePeak.toFixed(0)} MB; growth ${(peak - oneMinutePeak).toFixed(0)} MB`);
    console.log(`    command: ${commandFor(task)}`);
  }
}
