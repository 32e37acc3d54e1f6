/**
 * The checks of `vidx doctor` (cli/commands/doctor.ts registers it): Node, ffmpeg and ffprobe,
 * the cached models (official or synthetic), free disk for the cache and the data folder, the
 * local stack's port, and the GPU; each with what to do when it is not ok.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEFAULT_ARCHITECTURE, list, resolveCacheDir, type CacheState } from '../../models/store.ts';
import { DETECTION_MODELS } from '../../core/detection/analyses.ts';
import { ffmpegPath, ffprobePath } from '../../core/video/ffmpeg.ts';
import { gpuPlausible, GPU_DEVICE_NODES, TRY_CUDA_ENV } from '../../core/model/gpu.ts';
import { portFree } from '../port-check.ts';

export type Verdict = 'ok' | 'note' | 'FAIL';

export interface Check {
  name: string;
  verdict: Verdict;
  detail: string;
  /** What to do, for a note or a failure. */
  fix?: string;
}

/** Node's major version from `process.version` ("v20.20.2" -> 20). */
export function nodeMajor(version: string): number {
  return Number(/^v(\d+)/.exec(version)?.[1] ?? 0);
}

export function checkNode(version: string): Check {
  const major = nodeMajor(version);
  if (major < 20) return { name: 'node', verdict: 'FAIL', detail: `Node ${version}: vidx needs Node 20 or later`, fix: 'install Node 22 (LTS) or 20' };
  return { name: 'node', verdict: 'ok', detail: `Node ${version} (vidx runs on Node 20 and 22)` };
}

function checkTool(name: 'ffmpeg' | 'ffprobe'): Check {
  try {
    const path = name === 'ffmpeg' ? ffmpegPath() : ffprobePath();
    const first = execFileSync(path, ['-version'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0] ?? '';
    return { name, verdict: 'ok', detail: `${path}: ${first.replace(/ Copyright.*$/, '')}` };
  } catch (e) {
    return { name, verdict: 'FAIL', detail: (e as Error).message, fix: `run npm ci (it brings a static ${name}), install ${name}, or set VIDX_${name.toUpperCase()}` };
  }
}

function describeCached(s: CacheState): string {
  if (s === null) return 'none';
  if ('error' in s) return `broken (${s.error})`;
  return s.manifestPath;
}

function checkModels(cache: string | undefined): Check[] {
  const { cacheDir, entries } = list({ cache });
  const wanted = [DEFAULT_ARCHITECTURE, DETECTION_MODELS.people, DETECTION_MODELS.actions];
  return entries
    .filter((e) => wanted.includes(e.architecture))
    .map((e) => {
      const name = `model ${e.architecture}`;
      if (e.official && !('error' in e.official)) return { name, verdict: 'ok' as const, detail: `official weights: ${describeCached(e.official)}` };
      const why = e.official ? `official ${describeCached(e.official)}` : `no official weights in ${cacheDir}`;
      const use = e.architecture === DEFAULT_ARCHITECTURE ? '`npm start` pulls them on its first start where the network allows' : '`npm start -- --analyses detect` pulls them where the network allows';
      return { name, verdict: 'note' as const, detail: `${why}; ${e.synthetic ? `synthetic weights (labels mean nothing): ${describeCached(e.synthetic)}` : 'synthetic weights (labels mean nothing) are made on first use'}`, fix: `\`vidx models pull ${e.architecture}\`; ${use}` };
    });
}

/** The nearest existing folder of `path` (statfs needs one). */
function existing(path: string): string {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/** Bytes free at `path`'s file system. */
export function freeBytes(path: string): number {
  const s = statfsSync(existing(path));
  return s.bavail * s.bsize;
}

/** An official model bundle plus a checkpoint while it converts: a few hundred MB. */
const MIN_FREE_BYTES = 2e9;

function checkDisk(what: string, path: string): Check {
  const free = freeBytes(path);
  const gb = (free / 1e9).toFixed(1);
  if (free < MIN_FREE_BYTES) return { name: `disk ${what}`, verdict: 'FAIL', detail: `${gb} GB free at ${existing(path)}`, fix: `free space, or point ${what === 'cache' ? '--cache / VIDX_CACHE' : '--data'} elsewhere` };
  return { name: `disk ${what}`, verdict: 'ok', detail: `${gb} GB free at ${existing(path)}` };
}

async function checkPort(port: number): Promise<Check> {
  if (await portFree(port)) return { name: 'port', verdict: 'ok', detail: `127.0.0.1:${port} is free for \`vidx local\`` };
  return { name: 'port', verdict: 'note', detail: `127.0.0.1:${port} is in use (a running \`vidx local\`?)`, fix: `curl http://127.0.0.1:${port}/_local/health tells whether it is vidx; or start with --port <another>` };
}

function checkGpu(): Check {
  if (!gpuPlausible()) {
    return { name: 'gpu', verdict: 'ok', detail: `no NVIDIA device (${GPU_DEVICE_NODES.join(', ')}): models run on the CPU`, fix: `${TRY_CUDA_ENV}=1 makes --device auto try CUDA anyway` };
  }
  const smi = (() => {
    try {
      return execFileSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 }).trim();
    } catch (_e) {
      return 'nvidia-smi not available';
    }
  })();
  return { name: 'gpu', verdict: 'ok', detail: `NVIDIA device present (${smi}); --device auto tries CUDA (the CUDA build of onnxruntime-node is needed: see README "Models")` };
}

export async function runDoctor(o: { port: number; data: string; cache?: string | undefined }): Promise<Check[]> {
  return [
    checkNode(process.version),
    checkTool('ffmpeg'),
    checkTool('ffprobe'),
    ...checkModels(o.cache),
    checkDisk('cache', resolveCacheDir(o.cache)),
    checkDisk('data', o.data),
    await checkPort(o.port),
    checkGpu(),
  ];
}

export function formatChecks(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks.map((c) => `${c.verdict.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}${c.fix && c.verdict !== 'ok' ? `\n${' '.repeat(width + 8)}-> ${c.fix}` : ''}`).join('\n');
}

