import { z } from 'zod';

/** Architectures vidx can build. One list, used by the builders, the CLI and the manifests. */
export const ARCHITECTURES = ['slowfast_r50', 'i3d_r50', 'i3d_inception_v1', 'mars_resnext101', 'tps_swin_tiny'] as const;
export const ArchitectureSchema = z.enum(ARCHITECTURES);
export type Architecture = z.infer<typeof ArchitectureSchema>;

export const MANIFEST_VERSION = 'vidx.manifest/v1' as const;

const InputSchema = z.object({
  name: z.string().min(1),
  /** NCTHW; the batch dimension is the string "N" (dynamic). */
  shape: z.tuple([z.literal('N'), z.literal(3), z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  /** Frames this input takes from the window's T frames: "all", or PackPathway's subsample. */
  frames: z.number().int().positive(),
});

const SourceSchema = z.discriminatedUnion('kind', [
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
  layout: z.literal('NTHWC'),
  /** Which of the two files analyze and the worker load. */
  precision: z.enum(PRECISIONS),
});
export type Uint8EntryInfo = z.infer<typeof Uint8EntrySchema>;

/**
 * The contract between a model file and everything that feeds it. Preprocessing is driven by
 * this alone, so any ONNX with a manifest runs.
 */
export const ManifestSchema = z.object({
  schema: z.literal(MANIFEST_VERSION),
  architecture: ArchitectureSchema,
  /** ONNX file name, relative to the manifest's folder: the FLOAT entry (float32 NCTHW inputs). */
  onnx: z.string().min(1),
  uint8: Uint8EntrySchema.optional(),
  inputs: z.array(InputSchema).min(1),
  output: z.object({ name: z.string(), classes: z.number().int().positive() }),
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
  /**
   * The float range a byte 0..255 maps to before mean/std: x = lo + v / (255 / (hi - lo)).
   * [0, 1] for PyTorchVideo (x/255), [-1, 1] for the I3D paper (x/127.5 - 1), [0, 255] for MARS
   * and mmaction models. Manifests written before this field existed are PyTorchVideo ones.
   */
  inputRange: z
    .tuple([z.number(), z.number()])
    .refine(([lo, hi]) => hi > lo, 'inputRange must be [lo, hi] with hi > lo')
    .default([0, 1]),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  labels: z.array(z.string().min(1)).min(1),
  source: SourceSchema,
  trained: z.boolean(),
  /** Where the inference settings above come from. */
  reference: z.string(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** Seconds one window covers: T * r / F. */
export function windowSeconds(m: Pick<Manifest, 'frames' | 'samplingRate' | 'fps'>): number {
  return (m.frames * m.samplingRate) / m.fps;
}
