/**
 * The manifest of each architecture vidx builds: every inference setting PyTorchVideo documents
 * for its Kinetics-400 hub models, so preprocessing needs nothing but the manifest.
 */
import { VidxError } from '../core/errors.ts';
import { ARCHITECTURES, ArchitectureSchema, MANIFEST_VERSION, ManifestSchema, type Architecture, type Manifest } from '../core/model/manifest.ts';
import { INPUTS, LOGITS } from './arch/index.ts';
import { KINETICS400_CLASSES, loadKinetics400Labels } from './labels.ts';
import { FRAMES_INPUT, UINT8_LAYOUT } from './onnx/uint8-entry.ts';

export const MODEL_UNKNOWN_ARCH = 'MODEL_UNKNOWN_ARCH';
export const MODEL_MANIFEST_DRIFT = 'MODEL_MANIFEST_DRIFT';

export type ManifestSource = Manifest['source'];

/** What `source.rule` says for synthetic weights. */
export const SYNTHETIC_RULE =
  'vidx synthetic rule: FNV-1a(name) seed, murmur3 finalizer per element, BatchNorm stats/affine and fan-in scaled uniform weights; labels mean nothing';

interface Settings {
  /** Input name and the frames it takes from a window of `frames` frames. */
  inputs: ReadonlyArray<{ name: string; frames: number }>;
  frames: number;
  samplingRate: number;
  alpha: number | null;
  fps: number;
  shortSide: number;
  crop: number;
  reference: string;
}

const MEAN: [number, number, number] = [0.45, 0.45, 0.45];
const STD: [number, number, number] = [0.225, 0.225, 0.225];

/**
 * SlowFast R50 8x8: the transform of PyTorchVideo's Torch Hub page and torchhub inference
 * tutorial (side_size 256, crop_size 256, num_frames 32, sampling_rate 2, frames_per_second 30,
 * slowfast_alpha 4, mean 0.45, std 0.225; PackPathway: slow = 32 / 4 frames).
 *
 * I3D R50 8x8: the model zoo's "8x8" (frame length 8 x sample rate 8), the same normalisation and
 * short side as the hub's ResNet family (mean 0.45, std 0.225, side 256, 30 fps), and a 224 crop:
 * the size i3d_r50 is built for (create_resnet's head pool 4x7x7 = 8/2 frames x 224/32 pixels).
 */
const SETTINGS: Record<Architecture, Settings> = {
  slowfast_r50: {
    inputs: [
      { name: 'slow', frames: 8 },
      { name: 'fast', frames: 32 },
    ],
    frames: 32,
    samplingRate: 2,
    alpha: 4,
    fps: 30,
    shortSide: 256,
    crop: 256,
    reference:
      'https://pytorch.org/hub/facebookresearch_pytorchvideo_slowfast/ ; https://github.com/facebookresearch/pytorchvideo/blob/main/tutorials/torchhub_inference_tutorial.ipynb (slowfast_r50 transform: side 256, crop 256, 32 frames, sampling rate 2, 30 fps, alpha 4, mean 0.45, std 0.225)',
  },
  i3d_r50: {
    inputs: [{ name: 'video', frames: 8 }],
    frames: 8,
    samplingRate: 8,
    alpha: null,
    fps: 30,
    shortSide: 256,
    crop: 224,
    reference:
      'https://github.com/facebookresearch/pytorchvideo/blob/main/docs/source/model_zoo.md (I3D R50 8x8: 8 frames x sample rate 8) ; https://pytorch.org/hub/facebookresearch_pytorchvideo_resnet/ (side 256, 30 fps, mean 0.45, std 0.225) ; https://github.com/facebookresearch/pytorchvideo/blob/main/pytorchvideo/models/hub/resnet.py (i3d_r50: create_resnet head pool 4x7x7 = 224 crop)',
  },
};

export function knownArchitectures(): readonly Architecture[] {
  return ARCHITECTURES;
}

/** The architecture named `name`, or a clear error listing the known ones. */
export function parseArchitecture(name: string): Architecture {
  const r = ArchitectureSchema.safeParse(name);
  if (!r.success) {
    throw new VidxError(MODEL_UNKNOWN_ARCH, `unknown architecture "${name}"; known: ${ARCHITECTURES.join(', ')}`, {
      hint: `pass one of: ${ARCHITECTURES.join(', ')}`,
    });
  }
  return r.data;
}

/** File names of an architecture's model bundle inside a folder. */
export function modelFileNames(arch: Architecture): { onnx: string; manifest: string; uint8: string; uint8Float16: string } {
  return { onnx: `${arch}.onnx`, manifest: `${arch}.json`, uint8: `${arch}.u8.onnx`, uint8Float16: `${arch}.u8.fp16.onnx` };
}

/** The documented settings must describe the graph the builder makes (names, frames, crop). */
function checkAgainstGraph(arch: Architecture, s: Settings): void {
  const graph = INPUTS[arch].map((i) => `${i.name}:${i.frames}x${i.size}`).join(',');
  const documented = s.inputs.map((i) => `${i.name}:${i.frames}x${s.crop}`).join(',');
  if (graph !== documented) {
    throw new VidxError(MODEL_MANIFEST_DRIFT, `${arch}: the graph takes ${graph} but the documented settings say ${documented}`, {
      hint: 'models/manifests.ts and models/arch must agree; fix whichever drifted from PyTorchVideo',
    });
  }
}

/** The full manifest of `arch` (validated against ManifestSchema). */
export function manifestFor(arch: Architecture, source: ManifestSource, trained: boolean, options: { float16?: boolean } = {}): Manifest {
  const s = SETTINGS[arch];
  checkAgainstGraph(arch, s);
  const names = modelFileNames(arch);
  const manifest: Manifest = {
    schema: MANIFEST_VERSION,
    architecture: arch,
    onnx: names.onnx,
    uint8: { onnx: names.uint8, onnxFloat16: options.float16 ? names.uint8Float16 : null, input: FRAMES_INPUT, layout: UINT8_LAYOUT, precision: 'float32' },
    inputs: s.inputs.map((i) => ({ name: i.name, shape: ['N', 3, i.frames, s.crop, s.crop], frames: i.frames })),
    output: { name: LOGITS, classes: KINETICS400_CLASSES },
    frames: s.frames,
    samplingRate: s.samplingRate,
    alpha: s.alpha,
    fps: s.fps,
    shortSide: s.shortSide,
    crop: s.crop,
    inputRange: [0, 1],
    mean: [...MEAN],
    std: [...STD],
    labels: loadKinetics400Labels(),
    source,
    trained,
    reference: s.reference,
  };
  return ManifestSchema.parse(manifest);
}
