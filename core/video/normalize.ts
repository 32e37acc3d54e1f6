/**
 * Per-frame pixel rules of the window contract (issue 3): "scale so the short side is S (bilinear),
 * center-crop C x C, RGB, x/255, (x-mean)/std, laid out NCTHW float32".
 *
 * Scale and crop run inside ffmpeg (decode.ts builds the filters from the expressions below); this
 * module holds the same geometry as plain functions (for tests and documentation) and the
 * x/255, (x-mean)/std step, done once per decoded frame through a 256-entry table per channel.
 */

/**
 * Short-side scale, as PyTorchVideo's short_side_scale: if w < h: (S, floor(h/w*S)), else
 * (floor(w/h*S), S). Same float64 operations in the same order as the Python, so the floors agree.
 */
export function shortSideSize(width: number, height: number, S: number): { width: number; height: number } {
  if (width < height) return { width: S, height: Math.floor((height / width) * S) };
  return { width: Math.floor((width / height) * S), height: S };
}

/**
 * Center-crop offset as torchvision's CenterCropVideo (the transform of PyTorchVideo's SlowFast/I3D
 * inference recipe): int(round((size - C) / 2)) with Python's round, i.e. halves go to the even
 * neighbour. For an integer d = size - C this is d/2 when d is even, else q + (q mod 2), q = (d-1)/2.
 */
export function centerCropOffset(size: number, C: number): number {
  const d = size - C;
  if (d % 2 === 0) return d / 2;
  const q = (d - 1) / 2;
  return q + (q % 2);
}

/** The ffmpeg expressions for the two functions above (evaluated on the actual filter input size). */
export const FFMPEG_EXPR = {
  scaleW: (S: number) => `if(lt(iw,ih),${S},floor(iw/ih*${S}))`,
  scaleH: (S: number) => `if(lt(iw,ih),floor(ih/iw*${S}),${S})`,
  cropX: `if(mod(iw-ow,2),(iw-ow-1)/2+mod((iw-ow-1)/2,2),(iw-ow)/2)`,
  cropY: `if(mod(ih-oh,2),(ih-oh-1)/2+mod((ih-oh-1)/2,2),(ih-oh)/2)`,
} as const;

/**
 * v / (255 / (hi - lo)) + lo (x/255 for [0, 1], x/127.5 - 1 for [-1, 1], x for [0, 255]), then
 * (x - mean)/std, for every byte value, per channel, in float32 exactly as PyTorch does it on a
 * float32 tensor (each operation rounded to float32; float64 then fround is exact for a single
 * +, -, * or / of float32 values).
 */
export function normalizationTable(m: { readonly mean: readonly number[]; readonly std: readonly number[]; readonly inputRange?: readonly [number, number] }): Float32Array {
  const f = Math.fround;
  const [lo, hi] = m.inputRange ?? [0, 1];
  const divisor = f(255 / (hi - lo));
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const mean = f(m.mean[c]!);
    const std = f(m.std[c]!);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = f(f(f(f(v / divisor) + lo) - mean) / std);
  }
  return lut;
}

/**
 * One decoded CxC rgb24 frame (interleaved RGBRGB...) to planar normalized float32 [3][C][C].
 * Called once per decoded frame; windows copy planes out of the result.
 */
export function convertFrame(rgb: Uint8Array, C: number, lut: Float32Array, out: Float32Array = new Float32Array(3 * C * C)): Float32Array {
  const plane = C * C;
  if (rgb.length !== 3 * plane) throw new RangeError(`expected ${3 * plane} bytes for a ${C}x${C} rgb24 frame, got ${rgb.length}`);
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    out[i] = lut[rgb[j]!]!;
    out[plane + i] = lut[256 + rgb[j + 1]!]!;
    out[2 * plane + i] = lut[512 + rgb[j + 2]!]!;
  }
  return out;
}
