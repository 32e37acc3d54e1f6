import type { OnnxGraphBuilder } from './graph-builder.ts';

export interface RoiAlignSpec {
  /** Output H = W. */
  outputSize: number;
  /** Feature pixels per input pixel. */
  spatialScale: number;
  /** Samples per bin side; 0 = adaptive (ceil of the bin size). */
  samplingRatio: number;
}

/**
 * torchvision.ops.roi_align with aligned=False, in ONNX.
 *
 * ONNX RoiAlign's `output_half_pixel` mode is not torchvision's aligned=False (measured: off by
 * about 1 on unit-variance features; ../shared/reference/README.md). `half_pixel` equals
 * aligned=True exactly, and aligned=True on a box shifted by +0.5/scale input pixels starts where
 * aligned=False starts. aligned=False also widens a RoI narrower than one feature cell to one
 * cell (roi_width = max(w, 1)), which half_pixel does not: x2 = max(x2, x1 + 1/scale) does.
 *
 * `rois` is [K, 4] float (x1, y1, x2, y2 in input pixels), `batchIndices` [K] int64.
 * Returns [K, C, outputSize, outputSize].
 */
export function roiAlignTorchvision(graph: OnnxGraphBuilder, features: string, rois: string, batchIndices: string, spec: RoiAlignSpec, name: string): string {
  const cell = 1 / spec.spatialScale;
  const [topLeft, bottomRight] = graph.nodeMulti('Split', [rois, graph.int64Initializer(`${name}.split`, [2], [2, 2])], [`${name}.x1y1`, `${name}.x2y2`], { axis: { int: 1 } });
  const minBottomRight = graph.node('Add', [topLeft!, graph.initializer(`${name}.cell`, [], Float32Array.of(cell))], `${name}.min_x2y2`);
  const widened = graph.node('Max', [bottomRight!, minBottomRight], `${name}.widened`);
  const box = graph.node('Concat', [topLeft!, widened], `${name}.box`, { axis: { int: 1 } });
  const shifted = graph.node('Add', [box, graph.initializer(`${name}.half_cell`, [], Float32Array.of(0.5 * cell))], `${name}.shifted`);
  return graph.node('RoiAlign', [features, shifted, batchIndices], name, {
    coordinate_transformation_mode: { string: 'half_pixel' },
    mode: { string: 'avg' },
    output_height: { int: spec.outputSize },
    output_width: { int: spec.outputSize },
    sampling_ratio: { int: spec.samplingRatio },
    spatial_scale: { float: spec.spatialScale },
  });
}
