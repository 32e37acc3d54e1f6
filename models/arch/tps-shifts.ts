/**
 * The index arithmetic of TPS (Xiang et al., ECCV 2022; MartinXM/TPS swin_transformer2d_tps.py),
 * computed once at build time: the temporal patch shift's per-position frame offsets, the
 * relative-position index buffers the checkpoint carries, the token orders that put a frame-major
 * token sequence into (shifted, patch-shifted) windows and back, and Swin's shifted-window mask.
 *
 * Token orders: a "natural" sequence lists tokens by (frame d, row h, column w); a "window"
 * sequence lists them by (frame d, window row a, window column b, in-window row i, in-window
 * column j), i.e. window_partition's order with one-frame windows.
 */

/** Side of the square spatial window (window (1, 7, 7)). */
export const WINDOW = 7;
/** Tokens per window. */
export const WINDOW_TOKENS = WINDOW * WINDOW;
/**
 * The temporal extent TPS hard-codes for its relative-position table and index
 * (`window_size = (16, 7, 7)` inside WindowAttention3D): the frame count after the (2,4,4) patch
 * embedding of a 32-frame clip. The model only runs on that many frames.
 */
export const TPS_FRAMES = 16;

/**
 * Pattern C: the frame roll (torch.roll `shifts`) of a token by its in-window position
 * (row i, column j), looked up by (i % 3, j % 3). The centre of each 3x3 cell stays put.
 *
 *        j%3=0  j%3=1  j%3=2
 *   i%3=0  -4     +1     +2
 *   i%3=1  -1      0     +3
 *   i%3=2  -2     -3     +4
 */
const PATTERN_C: readonly (readonly number[])[] = [
  [-4, 1, 2],
  [-1, 0, 3],
  [-2, -3, 4],
];

export function patchShift(i: number, j: number): number {
  return PATTERN_C[i % 3]![j % 3]!;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/**
 * WindowAttention3D's `relative_position_index` (patch-shifted coordinates, used by PSM blocks)
 * or `relative_position_index_old` (plain coordinates, used by TSM blocks): [16, 49, 49], int64.
 * Entry [f, n1, n2] indexes the bias table for query token (frame f, position n1) against key
 * token (frame 0, position n2): the constructor's view/permute/reshape(...)[::16] keeps the
 * pairs whose key frame is 0. A shifted token's coordinates are its source frame's.
 */
export function relativePositionIndex(patchShifted: boolean): BigInt64Array {
  const frames = TPS_FRAMES;
  const side = 2 * WINDOW - 1;
  const out = new BigInt64Array(frames * WINDOW_TOKENS * WINDOW_TOKENS);
  // Coordinates (d, h, w) of the token stored at frame f, in-window position n.
  const frameOf = (f: number, n: number): number => (patchShifted ? mod(f - patchShift(Math.floor(n / WINDOW), n % WINDOW), frames) : f);
  for (let f = 0; f < frames; f++) {
    for (let n1 = 0; n1 < WINDOW_TOKENS; n1++) {
      const d1 = frameOf(f, n1);
      const h1 = Math.floor(n1 / WINDOW);
      const w1 = n1 % WINDOW;
      for (let n2 = 0; n2 < WINDOW_TOKENS; n2++) {
        const d2 = frameOf(0, n2);
        const h2 = Math.floor(n2 / WINDOW);
        const w2 = n2 % WINDOW;
        const index = (d1 - d2 + frames - 1) * side * side + (h1 - h2 + WINDOW - 1) * side + (w1 - w2 + WINDOW - 1);
        out[(f * WINDOW_TOKENS + n1) * WINDOW_TOKENS + n2] = BigInt(index);
      }
    }
  }
  return out;
}

/** Rows of the relative-position bias table: (2*16-1) * (2*7-1) * (2*7-1). */
export const BIAS_TABLE_ROWS = (2 * TPS_FRAMES - 1) * (2 * WINDOW - 1) * (2 * WINDOW - 1);

export interface WindowGrid {
  frames: number;
  height: number;
  width: number;
  /** Swin's cyclic shift of rows and columns (torch.roll by -shift before partitioning). */
  shift: number;
  /** Whether the temporal patch shift (Pattern C) moves tokens across frames too. */
  patchShifted: boolean;
}

/**
 * For each position of the window sequence, the natural token it reads: the composition of
 * torch.roll(x, (-shift, -shift)), window_partition and (for PSM) PatchShift. A permutation of
 * 0..frames*height*width-1.
 */
export function windowOrder(grid: WindowGrid): Int32Array {
  const { frames, height, width, shift } = grid;
  const rows = height / WINDOW;
  const cols = width / WINDOW;
  const order = new Int32Array(frames * height * width);
  let p = 0;
  for (let d = 0; d < frames; d++) {
    for (let a = 0; a < rows; a++) {
      for (let b = 0; b < cols; b++) {
        for (let i = 0; i < WINDOW; i++) {
          for (let j = 0; j < WINDOW; j++) {
            const sourceFrame = grid.patchShifted ? mod(d - patchShift(i, j), frames) : d;
            const h = (a * WINDOW + i + shift) % height;
            const w = (b * WINDOW + j + shift) % width;
            order[p++] = (sourceFrame * height + h) * width + w;
          }
        }
      }
    }
  }
  return order;
}

/** The inverse permutation: shift back (PSM), window_reverse and the reverse cyclic shift. */
export function inverseOrder(order: Int32Array): Int32Array {
  const inverse = new Int32Array(order.length);
  for (let p = 0; p < order.length; p++) inverse[order[p]!] = p;
  return inverse;
}

/** compute_mask's additive value between tokens of different regions. */
const MASK_VALUE = -100;

/**
 * Swin's shifted-window attention mask for one frame, [windows, 49, 49]: -100 between tokens
 * that the cyclic shift brought together from different regions, 0 elsewhere. compute_mask
 * labels every frame alike (its temporal shift is 0), so one frame's mask serves all.
 */
export function shiftedWindowMask(height: number, width: number, shift: number): Float32Array {
  const region = (x: number, size: number): number => (x < size - WINDOW ? 0 : x < size - shift ? 1 : 2);
  const rows = height / WINDOW;
  const cols = width / WINDOW;
  const mask = new Float32Array(rows * cols * WINDOW_TOKENS * WINDOW_TOKENS);
  const labels = new Int32Array(WINDOW_TOKENS);
  for (let a = 0; a < rows; a++) {
    for (let b = 0; b < cols; b++) {
      for (let n = 0; n < WINDOW_TOKENS; n++) {
        labels[n] = region(a * WINDOW + Math.floor(n / WINDOW), height) * 3 + region(b * WINDOW + (n % WINDOW), width);
      }
      const base = (a * cols + b) * WINDOW_TOKENS * WINDOW_TOKENS;
      for (let n1 = 0; n1 < WINDOW_TOKENS; n1++) {
        for (let n2 = 0; n2 < WINDOW_TOKENS; n2++) {
          if (labels[n1] !== labels[n2]) mask[base + n1 * WINDOW_TOKENS + n2] = MASK_VALUE;
        }
      }
    }
  }
  return mask;
}
