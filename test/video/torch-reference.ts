/**
 * A plain reference of the pixel rules as PyTorch computes them, for fidelity tests: a full-size
 * rgb24 frame, torch.nn.functional.interpolate(mode="bilinear", align_corners=False) to the
 * short-side size (2 taps, no antialiasing), then the center crop. Values stay in 0..255.
 */
export function torchBilinearCrop(src: Uint8Array, iw: number, ih: number, ow: number, oh: number, x0: number, y0: number, C: number): Float32Array {
  const out = new Float32Array(3 * C * C);
  const sx = iw / ow;
  const sy = ih / oh;
  for (let y = 0; y < C; y++) {
    const fy = Math.max(0, (y + y0 + 0.5) * sy - 0.5);
    const a = Math.floor(fy);
    const b = Math.min(a + 1, ih - 1);
    const ly = fy - a;
    for (let x = 0; x < C; x++) {
      const fx = Math.max(0, (x + x0 + 0.5) * sx - 0.5);
      const c0 = Math.floor(fx);
      const c1 = Math.min(c0 + 1, iw - 1);
      const lx = fx - c0;
      for (let c = 0; c < 3; c++) {
        const p = (r: number, q: number): number => src[(r * iw + q) * 3 + c]!;
        out[c * C * C + y * C + x] = (1 - ly) * ((1 - lx) * p(a, c0) + lx * p(a, c1)) + ly * ((1 - lx) * p(b, c0) + lx * p(b, c1));
      }
    }
  }
  return out;
}
