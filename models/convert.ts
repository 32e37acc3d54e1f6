/**
 * Model pairs (`<arch>.onnx` + `<arch>.json`) from synthetic weights or a PyTorch checkpoint.
 * Files are written beside their final names and renamed into place, ONNX first and manifest
 * last, so a manifest on disk always has its complete ONNX file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { VidxError } from '../core/errors.ts';
import type { Architecture, Manifest } from '../core/model/manifest.ts';
import { buildOnnx } from './arch/index.ts';
import { manifestFor, modelFileNames, SYNTHETIC_RULE } from './manifests.ts';
import { synthesizeStateDict } from './synthetic.ts';
import { loadStateDict } from './torch/index.ts';


export interface ModelPair {
  architecture: Architecture;
  onnxPath: string;
  manifestPath: string;
  manifest: Manifest;
  onnxBytes: number;
}

export interface ConvertOptions {
  /** Where the checkpoint came from (recorded in the manifest); null for a local file. */
  url?: string | null;
  /** The checkpoint's sha256 when the caller already computed it (saves reading it twice). */
  sha256?: string;
}

/** sha256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new VidxError('MODEL_WRITE_FAILED', `cannot write ${path}: ${(e as Error).message}`, {
      hint: 'check that the output folder is writable and has room (SlowFast R50 needs about 140 MB)',
      cause: e,
    });
  }
}

async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new VidxError('MODEL_WRITE_FAILED', `cannot create the folder ${dir}: ${(e as Error).message}`, { hint: 'pick an output folder you can write to', cause: e });
  }
}

/** Writes the ONNX file, then its manifest, into `outDir`. */
export async function writeModelPair(outDir: string, manifest: Manifest, onnx: Uint8Array): Promise<ModelPair> {
  const dir = resolve(outDir);
  await ensureDir(dir);
  const names = modelFileNames(manifest.architecture);
  const onnxPath = join(dir, names.onnx);
  const manifestPath = join(dir, names.manifest);
  await writeAtomically(onnxPath, onnx);
  await writeAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { architecture: manifest.architecture, onnxPath, manifestPath, manifest, onnxBytes: onnx.byteLength };
}

/** `<outDir>/<arch>.onnx` + `.json` with synthetic weights (trained: false; labels mean nothing). */
export async function synthesize(arch: Architecture, outDir: string): Promise<ModelPair> {
  const onnx = buildOnnx(arch, synthesizeStateDict(arch));
  return writeModelPair(outDir, manifestFor(arch, { kind: 'synthetic', rule: SYNTHETIC_RULE }, false), onnx);
}

/** `<outDir>/<arch>.onnx` + `.json` from a torch.save checkpoint (trained: true). */
export async function convert(arch: Architecture, checkpoint: string, outDir: string, options: ConvertOptions = {}): Promise<ModelPair> {
  const path = resolve(checkpoint);
  // The reader reports a missing, unreadable or malformed file with its own CHECKPOINT_* codes.
  const stateDict = await loadStateDict(path);
  const sha256 = options.sha256 ?? (await sha256File(path));
  const onnx = buildOnnx(arch, stateDict);
  const source = { kind: 'checkpoint' as const, url: options.url ?? null, file: basename(path), sha256 };
  return writeModelPair(outDir, manifestFor(arch, source, true), onnx);
}
