/**
 * OpenAI CLIP ViT-B/16 and ViT-B/32 (`clip/model.py` of openai/CLIP, MIT) as two ONNX graphs:
 *
 *   image tower (encode_image):
 *     image [N,3,224,224] -> conv1 (patch, no bias) -> tokens [N, g*g, 768]
 *       -> prepend class_embedding -> + positional_embedding -> ln_pre
 *       -> 12 pre-LN blocks (12 heads) -> token 0 -> ln_post -> @ visual.proj [768, 512] -> image_embeds
 *
 *   text tower (encode_text):
 *     text [N,77] int32 -> token_embedding -> + positional_embedding
 *       -> 12 pre-LN blocks (8 heads, additive causal mask) -> row at argmax(text) (the first EOT)
 *       -> ln_final -> @ text_projection [512, 512] -> text_embeds
 *
 *   block:  x ─┬─ ln_1 ─ MHA (packed in_proj q,k,v; scores / sqrt(64)) ─(+)─┬─ ln_2 ─ c_fc ─ QuickGELU ─ c_proj ─(+)─>
 *              └───────────────────────────────────────────────────────┘  └──────────────────────────────────┘
 *
 * Both outputs are unnormalized, as encode_image / encode_text return them. The key layout is
 * declared once (clipParams, in state_dict() order: a module's own parameters, then its
 * submodules in registration order) and both graphs read their weights through its names.
 */
import { OnnxGraphBuilder } from '../onnx/graph-builder.ts';
import type { OnnxTypes } from '../onnx/proto.ts';
import type { StateDict } from '../tensor.ts';
import type { KeyShape } from './key-layout.ts';
import { checkStateDict } from './state-check.ts';
import { weight } from './weights.ts';

/** Graph input and output names (the forms `vidx embed` and the manifest rely on). */
export const CLIP_IO = { image: 'image', imageEmbeds: 'image_embeds', text: 'text', textEmbeds: 'text_embeds' } as const;

/** The released checkpoints' configuration (build_model infers the same from their shapes). */
export interface ClipConfig {
  embedDim: number;
  imageResolution: number;
  visionLayers: number;
  visionWidth: number;
  visionPatchSize: number;
  contextLength: number;
  vocabSize: number;
  transformerWidth: number;
  transformerHeads: number;
  transformerLayers: number;
}

const VIT_B = { embedDim: 512, imageResolution: 224, visionLayers: 12, visionWidth: 768, contextLength: 77, vocabSize: 49408, transformerWidth: 512, transformerHeads: 8, transformerLayers: 12 };

export const CLIP_CONFIGS = {
  clip_vit_b16: { ...VIT_B, visionPatchSize: 16 },
  clip_vit_b32: { ...VIT_B, visionPatchSize: 32 },
} as const satisfies Record<string, ClipConfig>;

export type ClipArchitecture = keyof typeof CLIP_CONFIGS;

/** VisionTransformer: heads = width / 64. */
const VISION_HEAD_WIDTH = 64;
const LAYER_NORM_EPS = 1e-5;
const QUICK_GELU = 1.702;
const MLP_RATIO = 4;

/** The names of one ResidualAttentionBlock's tensors. */
export interface BlockParams {
  prefix: string;
  width: number;
  heads: number;
}

export interface ClipParams {
  config: ClipConfig;
  keys: KeyShape[];
  visionBlocks: BlockParams[];
  textBlocks: BlockParams[];
}

/** ResidualAttentionBlock: attn (in_proj_weight, in_proj_bias, out_proj), ln_1, mlp (c_fc, c_proj), ln_2. */
function blockKeys(prefix: string, width: number): KeyShape[] {
  const hidden = MLP_RATIO * width;
  return [
    [`${prefix}.attn.in_proj_weight`, [3 * width, width]],
    [`${prefix}.attn.in_proj_bias`, [3 * width]],
    [`${prefix}.attn.out_proj.weight`, [width, width]],
    [`${prefix}.attn.out_proj.bias`, [width]],
    [`${prefix}.ln_1.weight`, [width]],
    [`${prefix}.ln_1.bias`, [width]],
    [`${prefix}.mlp.c_fc.weight`, [hidden, width]],
    [`${prefix}.mlp.c_fc.bias`, [hidden]],
    [`${prefix}.mlp.c_proj.weight`, [width, hidden]],
    [`${prefix}.mlp.c_proj.bias`, [width]],
    [`${prefix}.ln_2.weight`, [width]],
    [`${prefix}.ln_2.bias`, [width]],
  ];
}

function layerNormKeys(name: string, width: number): KeyShape[] {
  return [
    [`${name}.weight`, [width]],
    [`${name}.bias`, [width]],
  ];
}

/** The state-dict layout of CLIP(...) and the blocks both towers run, in state_dict() order. */
export function clipParams(config: ClipConfig): ClipParams {
  const grid = config.imageResolution / config.visionPatchSize;
  const vw = config.visionWidth;
  const tw = config.transformerWidth;
  const visionBlocks = Array.from({ length: config.visionLayers }, (_, i) => ({ prefix: `visual.transformer.resblocks.${i}`, width: vw, heads: vw / VISION_HEAD_WIDTH }));
  const textBlocks = Array.from({ length: config.transformerLayers }, (_, i) => ({ prefix: `transformer.resblocks.${i}`, width: tw, heads: config.transformerHeads }));
  const keys: KeyShape[] = [
    ['positional_embedding', [config.contextLength, tw]],
    ['text_projection', [tw, config.embedDim]],
    ['logit_scale', []],
    ['visual.class_embedding', [vw]],
    ['visual.positional_embedding', [grid * grid + 1, vw]],
    ['visual.proj', [vw, config.embedDim]],
    ['visual.conv1.weight', [vw, 3, config.visionPatchSize, config.visionPatchSize]],
    ...layerNormKeys('visual.ln_pre', vw),
    ...visionBlocks.flatMap((b) => blockKeys(b.prefix, vw)),
    ...layerNormKeys('visual.ln_post', vw),
    ...textBlocks.flatMap((b) => blockKeys(b.prefix, tw)),
    ['token_embedding.weight', [config.vocabSize, tw]],
    ...layerNormKeys('ln_final', tw),
  ];
  return { config, keys, visionBlocks, textBlocks };
}

export function clipKeys(arch: ClipArchitecture): KeyShape[] {
  return clipParams(CLIP_CONFIGS[arch]).keys;
}

/** W [rows, cols] -> W^T [cols, rows] (Linear's [out, in] to MatMul's [in, out]), each element times `scale`. */
function transposed(w: Float32Array, rows: number, cols: number, scale = 1): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]! * scale;
  return out;
}

/** Writes one tower's nodes; weights are read by name from the checked state dict. */
class ClipGraph {
  readonly g = new OnnxGraphBuilder();
  private readonly consts = new Map<string, string>();

  constructor(private readonly sd: StateDict) {}

  private w(name: string): Float32Array {
    return weight(this.sd, name);
  }

  i64(name: string, dims: readonly number[], values: readonly number[]): string {
    let existing = this.consts.get(name);
    if (existing === undefined) {
      existing = this.g.int64Initializer(name, dims, values);
      this.consts.set(name, existing);
    }
    return existing;
  }

  f32(name: string, dims: readonly number[], values: Float32Array): string {
    let existing = this.consts.get(name);
    if (existing === undefined) {
      existing = this.g.initializer(name, dims, values);
      this.consts.set(name, existing);
    }
    return existing;
  }

  reshape(x: string, shape: readonly number[], name: string): string {
    return this.g.node('Reshape', [x, this.i64(`shape[${shape.join(',')}]`, [shape.length], shape)], name);
  }

  transpose(x: string, perm: readonly number[], name: string): string {
    return this.g.node('Transpose', [x], name, { perm: { ints: perm } });
  }

  layerNorm(x: string, name: string, width: number): string {
    const scale = this.g.initializer(`${name}.weight`, [width], this.w(`${name}.weight`));
    const bias = this.g.initializer(`${name}.bias`, [width], this.w(`${name}.bias`));
    return this.g.node('LayerNormalization', [x, scale, bias], name, { axis: { int: -1 }, epsilon: { float: LAYER_NORM_EPS } });
  }

  /** x @ W^T + b with W stored [out, in] (nn.Linear). */
  linear(x: string, name: string, inFeatures: number, outFeatures: number): string {
    const w = this.g.initializer(`${name}.weight`, [inFeatures, outFeatures], transposed(this.w(`${name}.weight`), outFeatures, inFeatures));
    const b = this.g.initializer(`${name}.bias`, [outFeatures], this.w(`${name}.bias`));
    return this.g.node('Add', [this.g.node('MatMul', [x, w], `${name}.matmul`), b], name);
  }

  /** x @ W with W stored [in, out] (visual.proj, text_projection). */
  project(x: string, name: string, inFeatures: number, outFeatures: number, output: string): string {
    const w = this.g.initializer(name, [inFeatures, outFeatures], this.w(name));
    return this.g.node('MatMul', [x, w], output);
  }

  /**
   * nn.MultiheadAttention(width, heads) on [N, L, width] as CLIP calls it (q = k = v = x): one
   * MatMul for the packed in_proj (q rows first, then k, then v), split, per-head q k^T / sqrt(d)
   * (the scale, a power of two, folded exactly into the q rows), + mask, softmax, (.) v, out_proj.
   */
  attention(x: string, block: BlockParams, mask: string | null): string {
    const { prefix, width: d, heads } = block;
    const hd = d / heads;
    const path = `${prefix}.attn`;
    const packed = this.w(`${path}.in_proj_weight`);
    const packedBias = this.w(`${path}.in_proj_bias`);
    const scale = 1 / Math.sqrt(hd);
    // [in, 3 out] with the q columns scaled.
    const w = new Float32Array(3 * d * d);
    const b = new Float32Array(3 * d);
    for (let o = 0; o < 3 * d; o++) {
      const s = o < d ? scale : 1;
      b[o] = packedBias[o]! * s;
      for (let i = 0; i < d; i++) w[i * 3 * d + o] = packed[o * d + i]! * s;
    }
    const qkvW = this.g.initializer(`${path}.in_proj.weight`, [d, 3 * d], w);
    const qkvB = this.g.initializer(`${path}.in_proj.bias`, [3 * d], b);
    const qkv = this.g.node('Add', [this.g.node('MatMul', [x, qkvW], `${path}.in_proj.matmul`), qkvB], `${path}.in_proj`);
    const [q, k, v] = this.g.nodeMulti('Split', [qkv, this.i64(`split[${d}x3]`, [3], [d, d, d])], [`${path}.q`, `${path}.k`, `${path}.v`], { axis: { int: -1 } });
    const heads4 = [0, 0, heads, hd];
    const qh = this.transpose(this.reshape(q!, heads4, `${path}.q.heads`), [0, 2, 1, 3], `${path}.q.split`);
    const kt = this.transpose(this.reshape(k!, heads4, `${path}.k.heads`), [0, 2, 3, 1], `${path}.k.split`);
    const vh = this.transpose(this.reshape(v!, heads4, `${path}.v.heads`), [0, 2, 1, 3], `${path}.v.split`);
    let scores = this.g.node('MatMul', [qh, kt], `${path}.scores`);
    if (mask !== null) scores = this.g.node('Add', [scores, mask], `${path}.scores_masked`);
    const attn = this.g.node('Softmax', [scores], `${path}.softmax`, { axis: { int: -1 } });
    const context = this.transpose(this.g.node('MatMul', [attn, vh], `${path}.context`), [0, 2, 1, 3], `${path}.context.merge`);
    return this.linear(this.reshape(context, [0, 0, d], `${path}.context.tokens`), `${path}.out_proj`, d, d);
  }

  /** QuickGELU: x * sigmoid(1.702 x). */
  quickGelu(x: string, name: string): string {
    const c = this.f32('quick_gelu.alpha', [], Float32Array.of(QUICK_GELU));
    const gate = this.g.node('Sigmoid', [this.g.node('Mul', [x, c], `${name}.scaled`)], `${name}.gate`);
    return this.g.node('Mul', [x, gate], name);
  }

  block(x: string, block: BlockParams, mask: string | null): string {
    const { prefix, width } = block;
    const y = this.attention(this.layerNorm(x, `${prefix}.ln_1`, width), block, mask);
    const h = this.g.node('Add', [x, y], `${prefix}.attn.residual`);
    const mlp = `${prefix}.mlp`;
    let z = this.linear(this.layerNorm(h, `${prefix}.ln_2`, width), `${mlp}.c_fc`, width, MLP_RATIO * width);
    z = this.quickGelu(z, `${mlp}.gelu`);
    z = this.linear(z, `${mlp}.c_proj`, MLP_RATIO * width, width);
    return this.g.node('Add', [h, z], `${prefix}.mlp.residual`);
  }
}

function toModel(graph: OnnxGraphBuilder, doc: string): OnnxTypes.IModelProto {
  return graph.toModel({ opset: 17, producer: 'vidx', docString: doc });
}

/** encode_image of CLIP: normalized image [N, 3, R, R] -> image_embeds [N, embedDim] (unnormalized). */
function imageTower(params: ClipParams, sd: StateDict): OnnxTypes.IModelProto {
  const { config } = params;
  const t = new ClipGraph(sd);
  const g = t.g;
  const r = config.imageResolution;
  const p = config.visionPatchSize;
  const vw = config.visionWidth;
  const tokens = (r / p) ** 2;
  const image = g.input(CLIP_IO.image, ['N', 3, r, r]);
  const conv = g.node('Conv', [image, g.initializer('visual.conv1.weight', [vw, 3, p, p], weight(sd, 'visual.conv1.weight'))], 'visual.conv1', {
    kernel_shape: { ints: [p, p] },
    strides: { ints: [p, p] },
  });
  const patches = t.transpose(t.reshape(conv, [0, vw, -1], 'visual.conv1.flatten'), [0, 2, 1], 'visual.patches');
  // class_embedding + positional_embedding[0] and patches + positional_embedding[1:]: the same float32 sums as cat-then-add.
  const pos = weight(sd, 'visual.positional_embedding');
  const cls = weight(sd, 'visual.class_embedding');
  const clsToken = new Float32Array(vw);
  for (let c = 0; c < vw; c++) clsToken[c] = cls[c]! + pos[c]!;
  const patchPos = g.initializer('visual.positional_embedding.patches', [tokens, vw], pos.slice(vw));
  const placed = g.node('Add', [patches, patchPos], 'visual.patches.positioned');
  const batch = g.node('Shape', [image], 'visual.batch', { start: { int: 0 }, end: { int: 1 } });
  const clsShape = g.node('Concat', [batch, t.i64('class_token.tail', [2], [1, vw])], 'visual.class_token.shape', { axis: { int: 0 } });
  const clsExpanded = g.node('Expand', [g.initializer('visual.class_token', [1, 1, vw], clsToken), clsShape], 'visual.class_token.batch');
  let x = g.node('Concat', [clsExpanded, placed], 'visual.tokens', { axis: { int: 1 } });
  x = t.layerNorm(x, 'visual.ln_pre', vw);
  for (const block of params.visionBlocks) x = t.block(x, block, null);
  const first = g.node('Gather', [x, t.i64('token0', [], [0])], 'visual.token0', { axis: { int: 1 } });
  const normed = t.layerNorm(first, 'visual.ln_post', vw);
  t.project(normed, 'visual.proj', vw, config.embedDim, CLIP_IO.imageEmbeds);
  g.output(CLIP_IO.imageEmbeds, ['N', config.embedDim]);
  return toModel(g, `CLIP ViT-B/${p} image tower (openai/CLIP clip/model.py encode_image), unnormalized embeddings`);
}

/** CLIP.build_attention_mask: -inf strictly above the diagonal, 0 elsewhere. */
export function causalMask(length: number): Float32Array {
  const mask = new Float32Array(length * length);
  for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) mask[i * length + j] = Number.NEGATIVE_INFINITY;
  return mask;
}

/** encode_text of CLIP: token ids int32 [N, contextLength] -> text_embeds [N, embedDim] (unnormalized). */
function textTower(params: ClipParams, sd: StateDict): OnnxTypes.IModelProto {
  const { config } = params;
  const t = new ClipGraph(sd);
  const g = t.g;
  const l = config.contextLength;
  const tw = config.transformerWidth;
  const text = g.input(CLIP_IO.text, ['N', l], 'int32');
  const table = g.initializer('token_embedding.weight', [config.vocabSize, tw], weight(sd, 'token_embedding.weight'));
  const embedded = g.node('Gather', [table, text], 'token_embedding', { axis: { int: 0 } });
  let x = g.node('Add', [embedded, g.initializer('positional_embedding', [l, tw], weight(sd, 'positional_embedding'))], 'text.positioned');
  const mask = g.initializer('attn_mask', [l, l], causalMask(l));
  for (const block of params.textBlocks) x = t.block(x, block, mask);
  // The features at the first position holding the largest id (the end-of-text token); LayerNorm
  // works per token, so normalizing that row alone equals ln_final over all rows, then the pick.
  const eot = g.node('ArgMax', [text], 'text.eot_index', { axis: { int: 1 }, keepdims: { int: 1 } });
  const picked = g.node('GatherND', [x, eot], 'text.eot_features', { batch_dims: { int: 1 } });
  const normed = t.layerNorm(picked, 'ln_final', tw);
  t.project(normed, 'text_projection', tw, config.embedDim, CLIP_IO.textEmbeds);
  g.output(CLIP_IO.textEmbeds, ['N', config.embedDim]);
  return toModel(g, 'CLIP text tower (openai/CLIP clip/model.py encode_text), unnormalized embeddings');
}

/**
 * The state dict of a released checkpoint as clip.build_model takes it: the config entries
 * some archives carry beside the weights (input_resolution, context_length, vocab_size) deleted.
 */
export function withoutClipConfigEntries(sd: StateDict): StateDict {
  const out = new Map(sd);
  for (const key of ['input_resolution', 'context_length', 'vocab_size']) out.delete(key);
  return out;
}

export interface ClipModels {
  image: OnnxTypes.IModelProto;
  text: OnnxTypes.IModelProto;
  /** logit_scale as stored (a log; CLIP multiplies cosines by its exp). */
  logitScale: number;
}

/**
 * Both towers of `arch` from a CLIP state dict (strict: missing, unexpected or mis-shaped keys
 * throw MODEL_STATE_MISMATCH; float16 weights are widened to float32).
 */
export function buildClip(arch: ClipArchitecture, sd: StateDict): ClipModels {
  const params = clipParams(CLIP_CONFIGS[arch]);
  checkStateDict(arch, sd, params.keys);
  return { image: imageTower(params, sd), text: textTower(params, sd), logitScale: weight(sd, 'logit_scale')[0]! };
}
