/**
 * Model bundles from synthetic weights or a PyTorch checkpoint: `<arch>.onnx` (the float entry:
 * float32 NCTHW inputs, for parity checks and inspect-window), `<arch>.u8.onnx` (the uint8
 * entry: frames as bytes, preprocessing in the graph; what analyze and the worker run), optionally
 * `<arch>.u8.fp16.onnx` (the same in float16, for GPUs), and `<arch>.json` (the manifest).
 * Files are written beside their final names and renamed into place, ONNX first and manifest
 * last, so a manifest on disk always has its complete ONNX files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { VidxError } from '../core/errors.ts';
import { isEmbedder, type Architecture, type EmbedderArchitecture, type EmbedderManifest, type ModelManifest } from '../core/model/manifest.ts';
import { buildClip, withoutClipConfigEntries, type ClipModels } from './arch/clip.ts';
import { buildModel } from './arch/index.ts';
import { PACKAGED_CLIP_VOCAB } from './clip-vocab.ts';
import { unwrapDataParallel } from './data-parallel.ts';
import { embedderManifest, manifestFor, modelFileNames, SYNTHETIC_RULE } from './manifests.ts';
import { toFloat16 } from './onnx/float16.ts';
import { onnx, type OnnxTypes } from './onnx/proto.ts';
import { uint8Entry } from './onnx/uint8-entry.ts';
import { synthesizeStateDict } from './synthetic.ts';
import type { StateDict } from './tensor.ts';
import { loadStateDict } from './torch/index.ts';

export interface ModelPair {
  architecture: Architecture;
  onnxPath: string;
  manifestPath: string;
  manifest: ModelManifest;
  onnxBytes: number;
}

export interface ConvertOptions {
  /** Where the checkpoint came from (recorded in the manifest); null for a local file. */
  url?: string | null;
  /** The checkpoint's sha256 when the caller already computed it (saves reading it twice). */
  sha256?: string;
  /** Also build the float16 uint8 entry (default: true for checkpoints). */
  float16?: boolean;
  /** Text-image embedders: the BPE vocabulary to put beside the manifest (default: the packaged copy). */
  vocab?: string;
}

export interface SynthesizeOptions {
  /** Also build the float16 uint8 entry (default false: synthetic models serve tests and benches on CPUs). */
  float16?: boolean;
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

/**
 * Writes the float entry, the uint8 entries the manifest names (built here from the float
 * model), then the manifest, into `outDir`.
 */
export async function writeModelPair(outDir: string, manifest: Exclude<ModelManifest, EmbedderManifest>, model: OnnxTypes.IModelProto): Promise<ModelPair> {
  const dir = resolve(outDir);
  await ensureDir(dir);
  const names = modelFileNames(manifest.architecture);
  const onnxPath = join(dir, names.onnx);
  const manifestPath = join(dir, names.manifest);
  const floatBytes = onnx.ModelProto.encode(model).finish();
  await writeAtomically(onnxPath, floatBytes);
  const u8 = manifest.uint8;
  if (u8) {
    // A person detector takes one image, no window: frames only has to be valid.
    const frames = manifest.task === 'detect-people' ? 1 : manifest.frames;
    const spec = { frames, inputRange: manifest.inputRange, mean: manifest.mean, std: manifest.std, ...(u8.padTo === undefined ? {} : { padTo: u8.padTo }) };
    await writeAtomically(join(dir, u8.onnx), onnx.ModelProto.encode(uint8Entry(model, spec)).finish());
    if (u8.onnxFloat16 !== null) await writeAtomically(join(dir, u8.onnxFloat16), onnx.ModelProto.encode(uint8Entry(toFloat16(model), spec)).finish());
  }
  await writeAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { architecture: manifest.architecture, onnxPath, manifestPath, manifest, onnxBytes: floatBytes.byteLength };
}

/**
 * A text-image embedder's bundle: the image tower (float entry, uint8 entry, optionally its
 * float16 form), the text tower (optionally float16), the BPE vocabulary (`vocabFrom`, default
 * the packaged copy), then the manifest.
 */
export async function writeEmbedderBundle(outDir: string, manifest: EmbedderManifest, models: ClipModels, vocabFrom: string | URL = PACKAGED_CLIP_VOCAB): Promise<ModelPair> {
  const dir = resolve(outDir);
  await ensureDir(dir);
  const onnxPath = join(dir, manifest.onnx);
  const manifestPath = join(dir, modelFileNames(manifest.architecture).manifest);
  const imageBytes = onnx.ModelProto.encode(models.image).finish();
  await writeAtomically(onnxPath, imageBytes);
  const spec = { frames: 1, inputRange: manifest.inputRange, mean: manifest.mean, std: manifest.std };
  await writeAtomically(join(dir, manifest.uint8.onnx), onnx.ModelProto.encode(uint8Entry(models.image, spec)).finish());
  if (manifest.uint8.onnxFloat16 !== null) await writeAtomically(join(dir, manifest.uint8.onnxFloat16), onnx.ModelProto.encode(uint8Entry(toFloat16(models.image), spec)).finish());
  await writeAtomically(join(dir, manifest.text.onnx), onnx.ModelProto.encode(models.text).finish());
  if (manifest.text.onnxFloat16 !== null) await writeAtomically(join(dir, manifest.text.onnxFloat16), onnx.ModelProto.encode(toFloat16(models.text)).finish());
  const vocab = join(dir, manifest.tokenizer.vocab);
  try {
    if (resolve(vocabFrom instanceof URL ? vocabFrom.pathname : vocabFrom) !== vocab) await copyFile(vocabFrom, vocab);
  } catch (e) {
    throw new VidxError('MODEL_WRITE_FAILED', `cannot copy the BPE vocabulary to ${vocab}: ${(e as Error).message}`, { hint: 'check that the output folder is writable', cause: e });
  }
  await writeAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { architecture: manifest.architecture, onnxPath, manifestPath, manifest, onnxBytes: imageBytes.byteLength };
}

async function embedderFromStateDict(arch: EmbedderArchitecture, sd: StateDict, outDir: string, source: ModelManifest['source'], trained: boolean, float16: boolean, vocabFrom?: string | URL): Promise<ModelPair> {
  const models = buildClip(arch, sd);
  const manifest = embedderManifest(arch, source, trained, { float16, logitScale: models.logitScale });
  return writeEmbedderBundle(outDir, manifest, models, vocabFrom);
}

/** `<outDir>/<arch>.onnx` + uint8 entry + `.json` with synthetic weights (trained: false; labels mean nothing). */
export async function synthesize(arch: Architecture, outDir: string, options: SynthesizeOptions = {}): Promise<ModelPair> {
  if (isEmbedder(arch)) return embedderFromStateDict(arch, synthesizeStateDict(arch), outDir, { kind: 'synthetic', rule: SYNTHETIC_RULE }, false, options.float16 ?? false);
  const model = buildModel(arch, synthesizeStateDict(arch));
  return writeModelPair(outDir, manifestFor(arch, { kind: 'synthetic', rule: SYNTHETIC_RULE }, false, { float16: options.float16 ?? false }) as Exclude<ModelManifest, EmbedderManifest>, model);
}

/**
 * `<outDir>/<arch>.onnx` + `.json` from a torch.save checkpoint (trained: true). Takes the released
 * forms: a plain state dict (rgb_imagenet.pt), `{model_state, ...}` (PyTorchVideo .pyth),
 * `{state_dict, ...}` (mmaction's `{meta, state_dict}`; MARS's `{arch, state_dict}`), with the
 * "module." prefix of a DataParallel wrapper removed, and TorchScript archives (OpenAI's CLIP
 * ViT-B-16.pt / ViT-B-32.pt: the module tree's tensors, float16 widened).
 */
export async function convert(arch: Architecture, checkpoint: string, outDir: string, options: ConvertOptions = {}): Promise<ModelPair> {
  const path = resolve(checkpoint);
  // The reader reports a missing, unreadable or malformed file with its own CHECKPOINT_* codes.
  const stateDict = unwrapDataParallel(await loadStateDict(path));
  const sha256 = options.sha256 ?? (await sha256File(path));
  const source = { kind: 'checkpoint' as const, url: options.url ?? null, file: basename(path), sha256 };
  if (isEmbedder(arch)) return embedderFromStateDict(arch, withoutClipConfigEntries(stateDict), outDir, source, true, options.float16 ?? true, options.vocab);
  const model = buildModel(arch, stateDict);
  return writeModelPair(outDir, manifestFor(arch, source, true, { float16: options.float16 ?? true }) as Exclude<ModelManifest, EmbedderManifest>, model);
}
