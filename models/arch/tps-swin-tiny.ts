import type { ArchitectureDefinition } from './definition.ts';
import type { IntegerBuffer, NetworkSink, Triple } from './network.ts';
import { BIAS_TABLE_ROWS, TPS_FRAMES, WINDOW, WINDOW_TOKENS, inverseOrder, relativePositionIndex, shiftedWindowMask, windowOrder } from './tps-shifts.ts';

const CLASSES = 400;
const FRAMES = 2 * TPS_FRAMES;
const SIZE = 224;
const PATCH: Triple = [2, 4, 4];
const EMBED_DIM = 96;
/** Swin-T: blocks and heads per stage; channels double (and the map halves) after each stage but the last. */
const STAGES = [
  { depth: 2, heads: 3 },
  { depth: 2, heads: 6 },
  { depth: 6, heads: 12 },
  { depth: 2, heads: 24 },
] as const;
const MLP_RATIO = 4;
/** TemporalShift(8): a quarter of each head's channels move, an eighth each way. */
const TSM_FOLD_DIV = 8;

/**
 * TPS (Xiang et al., ECCV 2022) as MartinXM/TPS builds it for Kinetics-400: mmaction's
 * Recognizer3D with backbone SwinTransformer2D_TPS (Swin-T, patch (2,4,4), window (1,7,7),
 * patch norm, qkv bias) and cls_head I3DHead (global average pool, Linear 768 -> 400).
 *
 *   video [N,3,32,224,224] -> Conv3d 2x4x4/2x4x4 -> tokens [N, 16*56*56, 96] -> LayerNorm
 *     -> stage 1 (2 blocks, 3 heads)  -> PatchMerging -> 16x28x28x192
 *     -> stage 2 (2 blocks, 6 heads)  -> PatchMerging -> 16x14x14x384
 *     -> stage 3 (6 blocks, 12 heads) -> PatchMerging -> 16x7x7x768
 *     -> stage 4 (2 blocks, 24 heads) -> LayerNorm -> mean over tokens -> Linear -> logits
 *
 * Attention is 2-D (one-frame 7x7 windows); frames meet only through the shifts, which
 * alternate inside every stage: even blocks shift channels (TSM), odd blocks shift patches
 * across frames (PSM, Pattern C) and, as in Swin, shift the windows by 3 (unless one window
 * covers the map, as in stage 4).
 */
export const tpsSwinTiny: ArchitectureDefinition = {
  origin: 'MartinXM/TPS SwinTransformer2D_TPS + mmaction I3DHead',
  inputs: [{ name: 'video', frames: FRAMES, size: SIZE }],
  walk<V>(net: NetworkSink<V>): void {
    const video = net.input('video', FRAMES, SIZE);
    const embed = 'backbone.patch_embed';
    let x = net.conv(video, { conv: `${embed}.proj`, inChannels: 3, outChannels: EMBED_DIM, kernel: PATCH, stride: PATCH });
    x = net.toTokens(x, `${embed}.tokens`, EMBED_DIM);
    x = net.layerNorm(x, `${embed}.norm`, EMBED_DIM);

    const frames = FRAMES / PATCH[0];
    let size = SIZE / PATCH[1];
    let channels = EMBED_DIM;
    STAGES.forEach((stage, s) => {
      const layer = `backbone.layers.${s}`;
      for (let b = 0; b < stage.depth; b++) {
        x = tpsBlock(net, x, { path: `${layer}.blocks.${b}`, channels, heads: stage.heads, frames, size, patchShift: b % 2 === 1 });
      }
      if (s < STAGES.length - 1) {
        x = net.patchMerging(x, { path: `${layer}.downsample`, frames, height: size, width: size, channels });
        size /= 2;
        channels *= 2;
      }
    });

    x = net.layerNorm(x, 'backbone.norm', channels);
    net.classifyTokens(x, 'cls_head.fc_cls', channels, CLASSES);
  },
};

interface BlockSpec {
  /** Module path, e.g. "backbone.layers.0.blocks.1". */
  path: string;
  channels: number;
  heads: number;
  frames: number;
  /** Side of the (square) token map. */
  size: number;
  /** PSM block (odd index) rather than TSM block (even index). */
  patchShift: boolean;
}

/**
 * SwinTransformerBlock3D with TPS's shifts (pre-norm, both residuals unscaled in eval mode):
 *
 *   x ─┬─ norm1 ─ [TSM: channel shift] ─ to windows ─ W-MSA ─ from windows ─(+)─┬─ norm2 ─ fc1 ─ GELU ─ fc2 ─(+)─>
 *      └──────────────────────────────────────────────────────────────────────┘  └───────────────────────────┘
 *
 * "to windows" is one token gather: the cyclic window shift (PSM blocks), window_partition and,
 * in PSM blocks, the patch shift; "from windows" is its inverse (PatchShift back, window_reverse,
 * reverse roll). Token permutations commute with the per-token proj, so the shift back that
 * TPS applies before proj is done after it.
 */
function tpsBlock<V>(net: NetworkSink<V>, x: V, spec: BlockSpec): V {
  const { path, channels, heads, frames, size } = spec;
  // get_window_size: no cyclic shift when one window covers the map.
  const windowShift = spec.patchShift && size > WINDOW ? WINDOW >> 1 : 0;
  const order = windowOrder({ frames, height: size, width: size, shift: windowShift, patchShifted: spec.patchShift });
  const windowsPerFrame = (size / WINDOW) ** 2;
  const headChannels = channels / heads;
  const attn = `${path}.attn`;

  let y = net.layerNorm(x, `${path}.norm1`, channels);
  if (!spec.patchShift) {
    y = net.temporalShift(y, { name: `${attn}.channel_shift`, frames, heads, headChannels, fold: headChannels / TSM_FOLD_DIV });
  }
  y = net.gatherTokens(y, `${attn}.to_windows`, order);
  y = net.windowAttention(y, {
    path: attn,
    channels,
    heads,
    frames,
    windowsPerFrame,
    windowTokens: WINDOW_TOKENS,
    tableRows: BIAS_TABLE_ROWS,
    buffers: indexBuffers(),
    biasIndex: spec.patchShift ? 'relative_position_index' : 'relative_position_index_old',
    mask: windowShift > 0 ? shiftedWindowMask(size, size, windowShift) : null,
  });
  y = net.gatherTokens(y, `${attn}.from_windows`, inverseOrder(order));
  x = net.add(x, y, `${attn}.residual`);

  const mlp = `${path}.mlp`;
  y = net.layerNorm(x, `${path}.norm2`, channels);
  y = net.linear(y, `${mlp}.fc1`, channels, MLP_RATIO * channels, true);
  y = net.gelu(y, `${mlp}.act`);
  y = net.linear(y, `${mlp}.fc2`, MLP_RATIO * channels, channels, true);
  return net.add(x, y, `${mlp}.residual`);
}

let cachedIndexBuffers: IntegerBuffer[] | undefined;

/** WindowAttention3D's two index buffers; every block constructs the same ones. */
function indexBuffers(): IntegerBuffer[] {
  const shape = [TPS_FRAMES, WINDOW_TOKENS, WINDOW_TOKENS];
  cachedIndexBuffers ??= [
    { name: 'relative_position_index', shape, values: relativePositionIndex(true) },
    { name: 'relative_position_index_old', shape, values: relativePositionIndex(false) },
  ];
  return cachedIndexBuffers;
}
