import { z } from 'zod';

/** Clip classifiers (Kinetics-400): the segmenter, worker and `analyze` run these. */
export const CLASSIFIER_ARCHITECTURES = ['slowfast_r50', 'i3d_r50', 'i3d_inception_v1', 'mars_resnext101', 'tps_swin_tiny'] as const;
/** Per-person action detectors (AVA): clip + person boxes in, one probability per action per box out. */
export const ACTION_DETECTOR_ARCHITECTURES = ['slowfast_r50_detection'] as const;
/** Person (object) detectors (COCO): one frame in, boxes, scores and labels out. */
export const PERSON_DETECTOR_ARCHITECTURES = ['fasterrcnn_resnet50_fpn_v2'] as const;
/** Text-image embedders (OpenAI CLIP): an image tower and a text tower into one space. */
export const EMBEDDER_ARCHITECTURES = ['clip_vit_b16', 'clip_vit_b32'] as const;

/** Architectures vidx can build. One list, used by the builders, the CLI and the manifests. */
export const ARCHITECTURES = [...CLASSIFIER_ARCHITECTURES, ...ACTION_DETECTOR_ARCHITECTURES, ...PERSON_DETECTOR_ARCHITECTURES, ...EMBEDDER_ARCHITECTURES] as const;
export const ArchitectureSchema = z.enum(ARCHITECTURES);
export type Architecture = z.infer<typeof ArchitectureSchema>;
export type ClassifierArchitecture = (typeof CLASSIFIER_ARCHITECTURES)[number];
export type ActionDetectorArchitecture = (typeof ACTION_DETECTOR_ARCHITECTURES)[number];
export type PersonDetectorArchitecture = (typeof PERSON_DETECTOR_ARCHITECTURES)[number];
export type EmbedderArchitecture = (typeof EMBEDDER_ARCHITECTURES)[number];

/**
 * What a model does, and so which manifest shape it has: `classify` a clip (Kinetics),
 * `detect-people` in a frame (boxes, scores, COCO labels), `detect-actions` of given people
 * in a clip (AVA: one probability per action per box), or `embed-text-image`: an image and a
 * text into one embedding space (CLIP).
 */
export const TASKS = ['classify', 'detect-people', 'detect-actions', 'embed-text-image'] as const;
export type Task = (typeof TASKS)[number];

export function taskOf(arch: Architecture): Task {
  if ((CLASSIFIER_ARCHITECTURES as readonly string[]).includes(arch)) return 'classify';
  if ((ACTION_DETECTOR_ARCHITECTURES as readonly string[]).includes(arch)) return 'detect-actions';
  if ((EMBEDDER_ARCHITECTURES as readonly string[]).includes(arch)) return 'embed-text-image';
  return 'detect-people';
}

export function isEmbedder(arch: Architecture): arch is EmbedderArchitecture {
  return taskOf(arch) === 'embed-text-image';
}

export function isClassifier(arch: Architecture): arch is ClassifierArchitecture {
  return taskOf(arch) === 'classify';
}

export const MANIFEST_VERSION = 'vidx.manifest/v1' as const;

const InputSchema = z.object({
  name: z.string().min(1),
  /** NCTHW; the batch dimension is the string "N" (dynamic). */
  shape: z.tuple([z.literal('N'), z.literal(3), z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  /** Frames this input takes from the window's T frames: "all", or PackPathway's subsample. */
  frames: z.number().int().positive(),
});

export const SourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('synthetic'), rule: z.string() }),
  z.object({ kind: z.literal('checkpoint'), url: z.string().nullable(), file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
]);

/** The data types the uint8 entry computes in; `precision` picks the file the engine loads. */
export const PRECISIONS = ['float32', 'float16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/**
 * The uint8 entry of a bundle (models/onnx/uint8-entry.ts): the same network with the
 * preprocessing in the graph. Its video input `input` takes a window's frames as uint8
 * [N, frames, crop, crop, 3] (NTHWC, rgb24 as ffmpeg writes them); it casts, maps to
 * `inputRange`, applies mean/std, moves channels first and picks each pathway's frames itself.
 * Absent in manifests written before it existed: those run through the float entry.
 */
const Uint8EntrySchema = z.object({
  /** ONNX file (relative to the manifest's folder), computing in float32. */
  onnx: z.string().min(1),
  /** The same with float16 weights and compute (uint8 in, float32 logits out); null when not built. */
  onnxFloat16: z.string().min(1).nullable(),
  /** Name of the uint8 frames input. */
  input: z.string().min(1),
  /** NTHWC: a window's frames (video models); NHWC: one image (the person detector). */
  layout: z.enum(['NTHWC', 'NHWC']),
  /**
   * Image inputs (person detectors): the graph pads the normalized image with zeros at the right
   * and bottom to multiples of this (the manifest's sizeDivisible, as torchvision batches
   * images), so `input` takes the scaled frame of any size. Absent: no padding in the graph
   * (bundles built before it; a detector's uint8 entry then cannot be used).
   */
  padTo: z.number().int().positive().optional(),
  /** Which of the two files analyze and the worker load. */
  precision: z.enum(PRECISIONS),
});
export type Uint8EntryInfo = z.infer<typeof Uint8EntrySchema>;

/** Mean and std per RGB channel, applied after inputRange. */
const Rgb = z.tuple([z.number(), z.number(), z.number()]);
const PositiveRgb = z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]);
/**
 * The float range a byte 0..255 maps to before mean/std: x = lo + v / (255 / (hi - lo)).
 * [0, 1] for PyTorchVideo (x/255), [-1, 1] for the I3D paper (x/127.5 - 1), [0, 255] for MARS
 * and mmaction models.
 */
const InputRangeSchema = z.tuple([z.number(), z.number()]).refine(([lo, hi]) => hi > lo, 'inputRange must be [lo, hi] with hi > lo');

/**
 * The graph output holding the pooled features the classifier head reads ([N, size] per clip,
 * [K, size] per box). Bundles built before it existed have none: they index no action vectors.
 */
const FeaturesOutputSchema = z.object({ name: z.string().min(1), size: z.number().int().positive() });

/** How every model turns a byte into its input value (inputRange, then mean and std). */
const normalizationFields = { inputRange: InputRangeSchema, mean: Rgb, std: PositiveRgb };
/** Where every model's weights come from, and where its inference settings are documented. */
const provenanceFields = { source: SourceSchema, trained: z.boolean(), reference: z.string() };

/**
 * The contract between a model file and everything that feeds it. Preprocessing is driven by
 * this alone, so any ONNX with a manifest runs.
 */
export const ClassifierManifestSchema = z.object({
  schema: z.literal(MANIFEST_VERSION),
  task: z.literal('classify'),
  architecture: z.enum(CLASSIFIER_ARCHITECTURES),
  /** ONNX file name, relative to the manifest's folder: the FLOAT entry (float32 NCTHW inputs). */
  onnx: z.string().min(1),
  uint8: Uint8EntrySchema.optional(),
  inputs: z.array(InputSchema).min(1),
  output: z.object({ name: z.string(), classes: z.number().int().positive() }),
  features: FeaturesOutputSchema.optional(),
  /** T: frames in a window (the fast pathway for SlowFast). */
  frames: z.number().int().positive(),
  /** r: the window takes every r-th frame at the model fps. */
  samplingRate: z.number().int().positive(),
  /** SlowFast's slow/fast frame ratio; null for single-pathway models. */
  alpha: z.number().int().positive().nullable(),
  /** F: the frame rate the model was trained at (frames per second). */
  fps: z.number().positive(),
  shortSide: z.number().int().positive(),
  crop: z.number().int().positive(),
  ...normalizationFields,
  /** Manifests written before this field existed are PyTorchVideo ones. */
  inputRange: InputRangeSchema.default([0, 1]),
  labels: z.array(z.string().min(1)).min(1),
  ...provenanceFields,
});

/** Manifests written before `task` existed are classifier manifests. */
function withDefaultTask(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !('task' in value)) return { ...value, task: 'classify' };
  return value;
}

/** A clip classifier's manifest (the segmenter, worker and `analyze` run these). */
export const ManifestSchema = z.preprocess(withDefaultTask, ClassifierManifestSchema);
export type Manifest = z.infer<typeof ClassifierManifestSchema>;

/**
 * An AVA action detector (SlowFast R50 detection): clips of the whole frame, scaled so the short
 * side is `shortSide` (no crop: H and W follow the aspect ratio), and person boxes in the
 * scaled frame's pixels; one sigmoid probability per action per box.
 */
export const ActionDetectorManifestSchema = z.object({
  schema: z.literal(MANIFEST_VERSION),
  task: z.literal('detect-actions'),
  architecture: z.enum(ACTION_DETECTOR_ARCHITECTURES),
  /** The float entry: float32 clips [N, 3, T, H, W]. */
  onnx: z.string().min(1),
  /** The uint8 entry: `frames` uint8 [1, 32, H, W, 3] (NTHWC) instead of slow/fast; boxes unchanged. */
  uint8: Uint8EntrySchema.optional(),
  /** The clip inputs: NCTHW, H and W free ("H", "W"); `frames` taken from the window's T. */
  inputs: z
    .array(
      z.object({
        name: z.string().min(1),
        shape: z.tuple([z.literal('N'), z.literal(3), z.number().int().positive(), z.literal('H'), z.literal('W')]),
        frames: z.number().int().positive(),
      }),
    )
    .min(1),
  /** Graph input [K, 5] float32: batch index, x1, y1, x2, y2 in input pixels. */
  boxes: z.object({ name: z.string().min(1), format: z.string() }),
  /** Graph output [K, classes]: sigmoid probabilities (multi-label). */
  output: z.object({ name: z.string(), classes: z.number().int().positive() }),
  features: FeaturesOutputSchema.optional(),
  frames: z.number().int().positive(),
  samplingRate: z.number().int().positive(),
  alpha: z.number().int().positive().nullable(),
  fps: z.number().positive(),
  shortSide: z.number().int().positive(),
  ...normalizationFields,
  labels: z.array(z.string().min(1)).min(1),
  /** Default probability at or above which an action counts for a person. */
  actionThreshold: z.number().min(0).max(1),
  ...provenanceFields,
});
export type ActionDetectorManifest = z.infer<typeof ActionDetectorManifestSchema>;

/**
 * A person detector (torchvision Faster R-CNN): one normalized frame [1, 3, H, W], resized as
 * torchvision's GeneralizedRCNNTransform does (short side minSize, long side at most maxSize)
 * and padded to multiples of sizeDivisible; out come boxes in input pixels, scores and labels.
 */
export const PersonDetectorManifestSchema = z.object({
  schema: z.literal(MANIFEST_VERSION),
  task: z.literal('detect-people'),
  architecture: z.enum(PERSON_DETECTOR_ARCHITECTURES),
  /** The float entry: a normalized float32 image [1, 3, H, W]. */
  onnx: z.string().min(1),
  /**
   * The uint8 entry: `image_u8` uint8 [1, H, W, 3], the frame as scaled (minSize/maxSize), rgb24,
   * ANY H and W, instead of image; the graph casts, normalizes (inputRange, mean, std), moves
   * channels first and pads with zeros to multiples of `uint8.padTo` (= sizeDivisible);
   * score_threshold unchanged.
   */
  uint8: Uint8EntrySchema.optional(),
  /** Graph input [1, 3, H, W] float32, normalized; H and W multiples of sizeDivisible. */
  input: z.object({ name: z.string().min(1), shape: z.tuple([z.literal(1), z.literal(3), z.literal('H'), z.literal('W')]) }),
  /** Graph input: float32 scalar; detections must score above it (PersonDetector feeds scoreThreshold by default). */
  scoreThresholdInput: z.string().min(1),
  /** Graph outputs: boxes [N, 4] float32 (x1, y1, x2, y2 input pixels), scores [N] float32, labels [N] int64. */
  outputs: z.object({ boxes: z.string().min(1), scores: z.string().min(1), labels: z.string().min(1) }),
  minSize: z.number().int().positive(),
  maxSize: z.number().int().positive(),
  sizeDivisible: z.number().int().positive(),
  ...normalizationFields,
  /** The default score threshold (strictly above, as torchvision); people: the AVA protocol's 0.8. */
  scoreThreshold: z.number().min(0).max(1),
  nmsThreshold: z.number().min(0).max(1),
  maxDetections: z.number().int().positive(),
  /** The label id of a person. */
  personLabel: z.number().int().nonnegative(),
  /** Category names by label id (index = id; "N/A" for ids COCO leaves unused, "__background__" at 0). */
  labels: z.array(z.string().min(1)).min(2),
  ...provenanceFields,
});
export type PersonDetectorManifest = z.infer<typeof PersonDetectorManifestSchema>;

/** The BPE tokenizer of a text tower (OpenAI CLIP's simple_tokenizer), and how `clip.tokenize` frames its ids. */
const TokenizerSchema = z.object({
  kind: z.literal('clip-bpe'),
  /** The gzipped merges file, relative to the manifest's folder (bpe_simple_vocab_16e6.txt.gz). */
  vocab: z.string().min(1),
  /** sha256 of `vocab`, checked when it is loaded. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Tokens per text: start, ids, end, then `pad` up to this. */
  contextLength: z.number().int().positive(),
  sot: z.number().int().nonnegative(),
  eot: z.number().int().nonnegative(),
  pad: z.number().int().nonnegative(),
  /** Longer texts keep SOT + the first contextLength - 2 ids + EOT (clip.tokenize(truncate=True)). */
  truncate: z.literal(true),
});
export type TokenizerInfo = z.infer<typeof TokenizerSchema>;

/**
 * A text-image embedder (OpenAI CLIP): two ONNX graphs. The image tower takes normalized float32
 * [N, 3, crop, crop] (`image`), or through the uint8 entry the centre-cropped rgb24 bytes
 * [N, crop, crop, 3]; the text tower takes token ids int32 [N, contextLength]. Both give
 * UNNORMALIZED embeddings [N, embedDim] (encode_image, encode_text); cosine similarity needs
 * them L2-normalized; CLIP's logits are exp(logitScale) times the cosines.
 */
export const EmbedderManifestSchema = z.object({
  schema: z.literal(MANIFEST_VERSION),
  task: z.literal('embed-text-image'),
  architecture: z.enum(EMBEDDER_ARCHITECTURES),
  /** The float entry of the image tower (as every manifest's `onnx` is its float entry). */
  onnx: z.string().min(1),
  image: z.object({
    input: z.object({ name: z.string().min(1), shape: z.tuple([z.literal('N'), z.literal(3), z.number().int().positive(), z.number().int().positive()]) }),
    output: z.string().min(1),
  }),
  /** The image tower's uint8 entry: `image_u8` uint8 [N, crop, crop, 3] (NHWC), normalization in the graph. */
  uint8: Uint8EntrySchema,
  text: z.object({
    onnx: z.string().min(1),
    /** The same in float16 (weights and compute; int32 in, float32 out); null when not built. */
    onnxFloat16: z.string().min(1).nullable(),
    input: z.object({ name: z.string().min(1), shape: z.tuple([z.literal('N'), z.number().int().positive()]), dtype: z.literal('int32') }),
    output: z.string().min(1),
  }),
  embedDim: z.number().int().positive(),
  /** Host preprocessing: the short side scaled to shortSide (resize), then a centre crop of crop x crop. */
  shortSide: z.number().int().positive(),
  crop: z.number().int().positive(),
  resize: z.literal('bicubic'),
  ...normalizationFields,
  tokenizer: TokenizerSchema,
  /** CLIP's logit_scale (a log): logits = exp(logitScale) * cosine similarity. */
  logitScale: z.number(),
  ...provenanceFields,
});
export type EmbedderManifest = z.infer<typeof EmbedderManifestSchema>;

/** Any model manifest, told apart by `task` (absent = classify). */
export const ModelManifestSchema = z.preprocess(
  withDefaultTask,
  z.discriminatedUnion('task', [ClassifierManifestSchema, ActionDetectorManifestSchema, PersonDetectorManifestSchema, EmbedderManifestSchema]),
);
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

/** Seconds one window covers: T * r / F. */
export function windowSeconds(m: Pick<Manifest, 'frames' | 'samplingRate' | 'fps'>): number {
  return (m.frames * m.samplingRate) / m.fps;
}
