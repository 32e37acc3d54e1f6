/**
 * gpu-worker/Dockerfile, checked as far as a machine without Docker can: pinned bases, the CUDA
 * build of onnxruntime-node requested the way its install script reads it, an NVDEC-capable
 * ffmpeg, the model built in, the worker as entrypoint, the same health check as the task's, and a
 * build context (.dockerignore) that holds everything the COPY lines need and nothing big.
 */
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../cdk/config.ts';
import { IMAGE_MODELS_DIR, WORKER_HEALTH_SCRIPT } from '../../cdk/constructs/gpu-worker-service.ts';
import { REPO_ROOT } from '../../cdk/paths.ts';
import { ENV } from '../../core/names.ts';
import { finalStageEnv, imageCommand, readDockerfile } from './dockerfile.ts';

const instructions = readDockerfile();
const of = (keyword: string) => instructions.filter((i) => i.keyword === keyword);
const runs = () => of('RUN').map((i) => i.args);
const env = finalStageEnv(instructions);

describe('base images', () => {
  it('every FROM is pinned by tag and sha256 digest', () => {
    const froms = of('FROM').map((i) => i.args.split(/\s+/)[0]!);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) expect(image).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$/);
  });

  it('runs on CUDA 12 + cuDNN runtime (Ubuntu 22.04) with Node 22 from the official image', () => {
    const froms = of('FROM').map((i) => i.args);
    expect(froms.at(-1)).toMatch(/^nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu22\.04@sha256:/);
    expect(froms[0]).toMatch(/^node:22\.\d+\.\d+-bookworm-slim@sha256:\S+ AS node$/);
    expect(of('COPY').map((i) => i.args)).toContain('--from=node /usr/local/bin/node /usr/local/bin/node');
  });
});

describe('onnxruntime-node with CUDA', () => {
  it('npm ci runs no install scripts; the image then runs onnxruntime-node\'s for the CUDA 12 execution provider and checks it arrived', () => {
    const ci = runs().find((r) => r.includes('npm ci'))!;
    expect(ci).toBeDefined();
    expect(ci).toMatch(/npm ci [^&]*--ignore-scripts/);
    expect(ci).toMatch(/npm ci [^&]*--omit=dev/);
    // The flag goes to the install script itself, never to npm (an unknown npm config key).
    expect(ci).not.toMatch(/npm ci [^&]*onnxruntime/);
    expect(ci).toContain('node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install-cuda=v12');
    expect(ci).toContain('libonnxruntime_providers_cuda.so');
    // ONNXRUNTIME_NODE_INSTALL would take precedence over the flag (and in 1.30 "cuda12" there reads as unspecified).
    expect(Object.keys(env)).not.toContain('ONNXRUNTIME_NODE_INSTALL');
    expect(runs().join('\n')).not.toContain('ONNXRUNTIME_NODE_INSTALL');
  });

  it('onnxruntime-node\'s own install script reads that argument as the linux/x64 CUDA 12 package', () => {
    const require = createRequire(import.meta.url);
    const utils = require('onnxruntime-node/script/install-utils.js') as { parseInstallFlag(): unknown };
    const metadata = require('onnxruntime-node/script/install-metadata.js') as { manifests: Record<string, unknown> };
    const saved = { env: { ...process.env }, argv: process.argv };
    try {
      for (const k of Object.keys(process.env)) if (/onnxruntime/i.test(k)) delete process.env[k];
      process.argv = ['node', 'install.js', '--onnxruntime-node-install-cuda=v12'];
      expect(utils.parseInstallFlag()).toBe('cuda12');
    } finally {
      process.env = saved.env;
      process.argv = saved.argv;
    }
    expect(Object.keys(metadata.manifests)).toContain('linux/x64:cuda12');
  });

  it('everywhere else npm never runs that script: package.json denies it (allowScripts), with no npm config key', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
    // Every dependency with an install script has a decision (npm 11 warns about the others).
    expect(Object.keys(pkg.allowScripts ?? {})).toEqual(expect.arrayContaining(['esbuild', 'classic-level', 'protobufjs']));
    expect(existsSync(join(REPO_ROOT, '.npmrc')) ? readFileSync(join(REPO_ROOT, '.npmrc'), 'utf8') : '').not.toMatch(/onnxruntime/);
  });
});

describe('video and model', () => {
  it('installs jellyfin-ffmpeg (NVDEC/CUVID) and points VIDX_FFMPEG/VIDX_FFPROBE at it', () => {
    expect(runs().some((r) => /apt-get install[^&]*jellyfin-ffmpeg\d/.test(r))).toBe(true);
    expect(env[ENV.ffmpeg]).toBe('/usr/lib/jellyfin-ffmpeg/ffmpeg');
    expect(env[ENV.ffprobe]).toBe('/usr/lib/jellyfin-ffmpeg/ffprobe');
    // The NVIDIA runtime mounts the video codec libraries only when asked.
    expect(env.NVIDIA_DRIVER_CAPABILITIES!.split(',')).toEqual(expect.arrayContaining(['compute', 'utility', 'video']));
  });

  it('builds the model into /models (pretrained pull, or synthetic) and points VIDX_MODEL at its manifest', () => {
    const args = of('ARG').map((i) => i.args);
    expect(args).toEqual(expect.arrayContaining(['VIDX_ARCH=slowfast_r50', 'VIDX_EXTRA_ARCHS=', 'VIDX_MODEL_SOURCE=pretrained']));
    const model = runs().find((r) => r.includes('models pull'))!;
    expect(model).toContain('node bin/vidx.js models pull "$arch" --cache /models');
    expect(model).toContain('node bin/vidx.js models synthesize "$arch" --out /models/synthetic');
    expect(env[ENV.model]).toBe(`${IMAGE_MODELS_DIR}/\${VIDX_ARCH}.json`);
    expect(env[ENV.device]).toBe('cuda');
  });

  // The model RUN line executed by sh, with /models moved into a temporary folder and a stand-in
  // `node` that writes what `vidx models pull/synthesize` would (its own CLI is tested elsewhere).
  const buildModels = (buildArgs: Record<string, string>): { calls: string[]; current: string[]; code: number | null } => {
    const dir = mkdtempSync(join(tmpdir(), 'vidx-image-models-'));
    try {
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      const fakeNode = [
        '#!/bin/sh',
        `echo "$*" >> ${dir}/calls`,
        // node bin/vidx.js models <pull|synthesize> <arch> <--cache|--out> <dir>
        'if [ "$3" = pull ]; then out="$6/official"; else out="$6"; fi',
        'mkdir -p "$out" && touch "$out/$4.onnx" "$out/$4.json"',
      ].join('\n');
      writeFileSync(join(bin, 'node'), `${fakeNode}\n`, { mode: 0o755 });
      const script = runs().find((r) => r.includes('models pull'))!.replaceAll('/models', join(dir, 'models'));
      const r = spawnSync('sh', ['-c', script], { env: { PATH: `${bin}:/usr/bin:/bin`, VIDX_MODEL_ZOO_URL: '', ...buildArgs }, encoding: 'utf8' });
      const current = join(dir, 'models', 'current');
      return {
        calls: existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').map((c) => c.replaceAll(dir, '$T')) : [],
        current: existsSync(current) ? readdirSync(current).sort() : [],
        code: r.status,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('pulls the classifier and every extra architecture (the detection pair) into /models/current', () => {
    const r = buildModels({ VIDX_ARCH: 'slowfast_r50', VIDX_EXTRA_ARCHS: 'fasterrcnn_resnet50_fpn_v2 slowfast_r50_detection', VIDX_MODEL_SOURCE: 'pretrained' });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(['bin/vidx.js models pull slowfast_r50 --cache $T/models', 'bin/vidx.js models pull fasterrcnn_resnet50_fpn_v2 --cache $T/models', 'bin/vidx.js models pull slowfast_r50_detection --cache $T/models']);
    expect(r.current).toEqual(['fasterrcnn_resnet50_fpn_v2.json', 'fasterrcnn_resnet50_fpn_v2.onnx', 'slowfast_r50.json', 'slowfast_r50.onnx', 'slowfast_r50_detection.json', 'slowfast_r50_detection.onnx']);
  });

  it('synthesizes only the classifier when nothing extra is asked for', () => {
    const r = buildModels({ VIDX_ARCH: 'i3d_r50', VIDX_EXTRA_ARCHS: '', VIDX_MODEL_SOURCE: 'synthetic' });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(['bin/vidx.js models synthesize i3d_r50 --out $T/models/synthetic']);
    expect(r.current).toEqual(['i3d_r50.json', 'i3d_r50.onnx']);
  });
});

describe('process', () => {
  it('the entrypoint starts gpu-worker/main.ts with node, in exec form (signals reach the worker)', () => {
    expect(imageCommand(instructions)).toEqual(['node', 'bin/run-ts.js', 'gpu-worker/main.ts']);
    expect(existsSync(join(REPO_ROOT, 'gpu-worker', 'main.ts'))).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'bin', 'run-ts.js'))).toBe(true);
    expect(of('WORKDIR').at(-1)!.args).toBe('/app');
  });

  it('runs as a non-root user', () => {
    expect(of('USER').at(-1)!.args).not.toMatch(/^(root|0)$/);
  });

  it('HEALTHCHECK is the task definition\'s check with the same timings, on the configured port', () => {
    const hc = of('HEALTHCHECK').at(-1)!.args;
    const [flags, command] = hc.split(/\s+CMD\s+/);
    expect(flags!.split(/\s+/)).toEqual(['--interval=30s', '--timeout=5s', '--start-period=120s', '--retries=3']);
    expect(command).toBe(WORKER_HEALTH_SCRIPT);
    expect(env[ENV.healthPort]).toBe(String(loadConfig({ tryGetContext: () => undefined }).workerHealthPort));
  });
});

describe('build context', () => {
  const allowed = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1).replace(/\/$/, ''));

  it('.dockerignore is an allow-list: everything is excluded first', () => {
    const lines = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    for (const big of ['**/node_modules', '**/*.onnx', '**/*.pyth', '**/*.mp4']) expect(lines).toContain(big);
  });

  it('every COPY from the context names an allowed path that exists', () => {
    const sources = of('COPY')
      .filter((i) => !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const src of sources) {
      expect(allowed, src).toContain(src.replace(/^\.\//, '').replace(/\/$/, ''));
      expect(existsSync(join(REPO_ROOT, src)), src).toBe(true);
    }
  });
});
