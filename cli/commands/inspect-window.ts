/**
 * `vidx inspect-window <file> --model <manifest.json> --at <seconds> --out <dir>`: the exact model
 * inputs of the window starting at <seconds>, for checking against an independent implementation.
 *
 * Writes `<dir>/<input>.f32` (raw little-endian float32, NCTHW, N=1) for each model input and
 * `<dir>/inputs.json`: input name -> shape (and file, and which of the window's T frames it takes),
 * the presentation time (s, relative to the video's start) of every frame used, and the video facts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { VidxError } from '../../core/errors.ts';
import { windowSeconds, type Manifest } from '../../core/model/manifest.ts';
import { loadManifest } from '../../core/pipeline/model-ref.ts';
import type { PackedBatch } from '../../core/video/window-source.ts';
import type { toVideoFacts } from '../../core/video/probe.ts';
import { frameInstants } from '../../core/video/windows.ts';


export interface InspectResult {
  dir: string;
  files: string[];
  json: InputsJson;
}

export interface InputsJson {
  source: string;
  model: { architecture: Manifest['architecture']; manifest: string };
  window: { start: number; end: number; instants: number[] };
  /** Presentation time (s) of each of the window's T frames. */
  frameTimes: number[];
  inputs: Record<string, { shape: number[]; file: string; dtype: 'float32'; byteOrder: 'little'; layout: 'NCTHW'; frames: number[]; frameTimes: number[] }>;
  video: ReturnType<typeof toVideoFacts>;
}

function littleEndianBytes(a: Float32Array): Buffer {
  const buf = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (endianness() === 'LE') return buf;
  const copy = Buffer.from(buf);
  copy.swap32();
  return copy;
}

export async function inspectWindow(file: string, manifestPath: string, at: number, outDir: string, opts: { hwaccel?: boolean } = {}): Promise<InspectResult> {
  // The decoder loads only when a window is inspected (help stays fast).
  const [{ probe, toVideoFacts }, { inputLayouts, readWindows }] = await Promise.all([import('../../core/video/probe.ts'), import('../../core/video/window-source.ts')]);
  const m = loadManifest(manifestPath);
  const layouts = inputLayouts(m);
  const info = await probe(file);
  if (!Number.isFinite(at) || at < 0 || at >= info.duration) {
    throw new VidxError('INSPECT_BAD_TIME', `--at ${at} is outside the video (0 to ${info.duration.toFixed(3)} s)`, { hint: 'give a start time within the video' });
  }
  const window = { index: 0, start: at, end: at + windowSeconds(m) };
  let batch: PackedBatch | undefined;
  for await (const b of readWindows(file, m, { info, windows: [window], batch: 1, hwaccel: opts.hwaccel })) batch = b;
  if (!batch) throw new Error('internal: no window packed'); // readWindows yields every window it is given
  await mkdir(outDir, { recursive: true });
  const times = batch.frameTimes[0]!;
  const json: InputsJson = {
    source: file,
    model: { architecture: m.architecture, manifest: manifestPath },
    window: { start: window.start, end: window.end, instants: frameInstants(window, m) },
    frameTimes: times,
    inputs: {},
    video: toVideoFacts(file, info),
  };
  const files: string[] = [];
  for (const l of layouts) {
    const name = `${l.name}.f32`;
    await writeFile(join(outDir, name), littleEndianBytes(batch.inputs[l.name]!));
    files.push(name);
    json.inputs[l.name] = {
      shape: [1, 3, l.frames.length, m.crop, m.crop],
      file: name,
      dtype: 'float32',
      byteOrder: 'little',
      layout: 'NCTHW',
      frames: l.frames,
      frameTimes: l.frames.map((k) => times[k]!),
    };
  }
  await writeFile(join(outDir, 'inputs.json'), `${JSON.stringify(json, null, 2)}\n`);
  files.push('inputs.json');
  return { dir: outDir, files, json };
}

export function registerInspectWindow(program: Command): void {
  program
    .command('inspect-window')
    .description('write the exact model inputs of one window (raw float32 NCTHW + inputs.json)')
    .argument('<file>', 'video file or http(s) URL')
    .requiredOption('--model <manifest.json>', 'model manifest')
    .requiredOption('--at <seconds>', 'window start time (s)', Number)
    .requiredOption('--out <dir>', 'output folder')
    .option('--hwaccel', 'use -hwaccel cuda where available')
    .action(async (file: string, o: { model: string; at: number; out: string; hwaccel?: boolean }) => {
      const r = await inspectWindow(file, o.model, o.at, o.out, { hwaccel: o.hwaccel });
      for (const [name, inp] of Object.entries(r.json.inputs)) process.stdout.write(`${join(r.dir, inp.file)}  ${name} [${inp.shape.join(', ')}]\n`);
      process.stdout.write(`${join(r.dir, 'inputs.json')}  frames at ${r.json.frameTimes.map((t) => t.toFixed(3)).join(' ')} s\n`);
    });
}
