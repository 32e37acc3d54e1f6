/**
 * `vidx models ...` (exact forms; scripts depend on them):
 *   vidx models synthesize <arch> --out <dir> [--float16]
 *   vidx models convert <arch> --checkpoint <file.pyth|file.pt> --out <dir>
 *   vidx models pull <arch> [--cache <dir>] [--sha256 <hex>] [--force]
 *   vidx models list [--cache <dir>] [--json]
 * stdout: what was written (or the list); stderr: progress and notes.
 */
import type { Command } from 'commander';
import { ARCHITECTURES, type Architecture, type ModelManifest } from '../../core/model/manifest.ts';
import type { ModelPair } from '../../models/convert.ts';
import type { PullProgress } from '../../models/pull.ts';
import type { CacheState } from '../../models/store.ts';

// The builders, the downloader and the progress bar load only when a subcommand runs (help stays fast).
const knownArchitectures = (): readonly string[] => ARCHITECTURES;
const parseArchitecture = async (name: string): Promise<Architecture> => (await import('../../models/manifests.ts')).parseArchitecture(name);

function say(line: string): void {
  process.stderr.write(`vidx: ${line}\n`);
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The graph inputs a manifest declares, as `name [shape]`. */
function describeInputs(m: ModelManifest): string {
  if (m.task === 'embed-text-image') {
    return `${m.image.input.name} [${m.image.input.shape.join('x')}] -> ${m.image.output}, ${m.text.input.name} [${m.text.input.shape.join('x')}] ${m.text.input.dtype} -> ${m.text.output} (${m.text.onnx})`;
  }
  const inputs = m.task === 'detect-people' ? [m.input] : m.task === 'detect-actions' ? [...m.inputs, { name: m.boxes.name, shape: ['K', 5] }] : m.inputs;
  return inputs.map((i) => `${i.name} [${i.shape.join('x')}]`).join(', ');
}

function printPair(pair: ModelPair): void {
  const m = pair.manifest;
  process.stdout.write(`wrote ${pair.onnxPath} (${megabytes(pair.onnxBytes)})\n`);
  const u8 = m.uint8;
  if (u8) process.stdout.write(`wrote ${[u8.onnx, u8.onnxFloat16].filter(Boolean).join(', ')} beside it (uint8 entry: bytes in, preprocessing in the graph)\n`);
  process.stdout.write(`wrote ${pair.manifestPath} (${m.architecture}, ${m.task}, trained: ${m.trained}, inputs ${describeInputs(m)})\n`);
}

/** A cli-progress bar on stderr (rendered as periodic lines when stderr is not a terminal). */
export async function downloadBar(arch: Architecture): Promise<{ update(p: PullProgress): void; stop(): void }> {
  const cliProgress = (await import('cli-progress')).default;
  const bar = new cliProgress.SingleBar(
    {
      format: `pull ${arch} [{bar}] {percentage}% | {received} / {size}`,
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let converting = false;
  const stop = () => {
    if (started) bar.stop();
    started = false;
  };
  return {
    update(p) {
      if (p.phase === 'convert') {
        if (!converting) {
          stop();
          converting = true;
          say(`downloaded ${megabytes(p.received)}; converting to ONNX`);
        }
        return;
      }
      const total = p.total ?? Math.max(p.received, 1);
      const payload = { received: megabytes(p.received), size: p.total === null ? 'unknown size' : megabytes(p.total) };
      if (!started) {
        bar.start(total, p.received, payload);
        started = true;
      } else {
        if (p.total === null) bar.setTotal(total);
        bar.update(p.received, payload);
      }
    },
    stop,
  };
}

function describeState(s: CacheState): string {
  if (s === null) return '-';
  if ('error' in s) return `broken (${s.error})`;
  const src = s.manifest.source;
  return src.kind === 'checkpoint' ? `${s.manifestPath} (sha256 ${src.sha256.slice(0, 12)}...)` : s.manifestPath;
}

export function registerModels(program: Command): void {
  const models = program.command('models').description(`build, download and list models (${knownArchitectures().join(', ')})`);

  models
    .command('synthesize')
    .description('write <dir>/<arch>.onnx + <arch>.json with synthetic weights (trained: false; labels mean nothing)')
    .argument('<arch>', `architecture: ${knownArchitectures().join(', ')}`)
    .requiredOption('--out <dir>', 'output folder')
    .option('--float16', 'also write <arch>.u8.fp16.onnx (float16 weights and compute, for GPUs)')
    .action(async (archName: string, opts: { out: string; float16?: boolean }) => {
      const arch = await parseArchitecture(archName);
      say(`building ${arch} with synthetic weights`);
      const { synthesize } = await import('../../models/convert.ts');
      printPair(await synthesize(arch, opts.out, { float16: opts.float16 ?? false }));
    });

  models
    .command('convert')
    .description('write <dir>/<arch>.onnx + <arch>.json from an official checkpoint (torch.save: a PyTorchVideo .pyth or a torchvision .pth; a TorchScript archive: OpenAI CLIP ViT-B-16.pt / ViT-B-32.pt)')
    .argument('<arch>', `architecture: ${knownArchitectures().join(', ')}`)
    .requiredOption('--checkpoint <file>', 'the checkpoint: a dict whose model_state is the state dict (.pyth), or a plain state dict (.pth)')
    .requiredOption('--out <dir>', 'output folder')
    .action(async (archName: string, opts: { checkpoint: string; out: string }) => {
      const arch = await parseArchitecture(archName);
      say(`converting ${opts.checkpoint} as ${arch}`);
      const { convert } = await import('../../models/convert.ts');
      const pair = await convert(arch, opts.checkpoint, opts.out);
      printPair(pair);
      if (pair.manifest.source.kind === 'checkpoint') process.stdout.write(`checkpoint sha256 ${pair.manifest.source.sha256}\n`);
    });

  models
    .command('pull')
    .description('download the official checkpoint (PyTorchVideo model zoo, torchvision, OpenAI CLIP), convert it and cache it')
    .argument('<arch>', `architecture: ${knownArchitectures().join(', ')}`)
    .option('--cache <dir>', 'model cache (default: $VIDX_CACHE or ~/.cache/vidx/models)')
    .option('--sha256 <hex>', 'expected sha256 of the checkpoint (checked before converting)')
    .option('--force', 'download and convert again even if cached')
    .action(async (archName: string, opts: { cache?: string; sha256?: string; force?: boolean }) => {
      const arch = await parseArchitecture(archName);
      const bar = await downloadBar(arch);
      const { pull } = await import('../../models/pull.ts');
      let result;
      try {
        result = await pull(arch, { cache: opts.cache, sha256: opts.sha256, force: opts.force, onProgress: (p) => bar.update(p) });
      } finally {
        bar.stop();
      }
      if (!result.downloaded) {
        process.stdout.write(`already cached: ${result.manifestPath} (use --force to download again)\n`);
        return;
      }
      printPair(result);
      const check = result.checksum === 'verified' ? 'verified' : 'no published checksum: recorded in the manifest';
      process.stdout.write(`checkpoint ${result.url} sha256 ${result.sha256} (${check})\n`);
    });

  models
    .command('list')
    .description('known architectures and what the cache holds')
    .option('--cache <dir>', 'model cache (default: $VIDX_CACHE or ~/.cache/vidx/models)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { cache?: string; json?: boolean }) => {
      const { list } = await import('../../models/store.ts');
      const { cacheDir, entries } = list({ cache: opts.cache });
      if (opts.json) {
        const plain = (s: CacheState) => (s === null ? null : 'error' in s ? { error: s.error } : { manifest: s.manifestPath, trained: s.manifest.trained, source: s.manifest.source });
        const out = { cache: cacheDir, models: entries.map((e) => ({ architecture: e.architecture, official: plain(e.official), synthetic: plain(e.synthetic) })) };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      process.stdout.write(`cache: ${cacheDir}\n`);
      for (const e of entries) {
        process.stdout.write(`${e.architecture}\n  official:  ${describeState(e.official)}\n  synthetic: ${describeState(e.synthetic)}\n`);
      }
    });
}
