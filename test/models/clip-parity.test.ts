/**
 * OpenAI CLIP ViT-B/16 and ViT-B/32 built by `models synthesize` from the synthetic state dict
 * give the embeddings and logits of openai/CLIP's own model (../shared/reference/clip_vit_b*.json):
 * the image tower, the text tower (all 10 reference texts, the empty and the truncated one
 * included), the uint8 image entry, and the text tower in float16.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedderManifestSchema, type EmbedderArchitecture, type EmbedderManifest } from '../../core/model/manifest.ts';
import { normalizationTable } from '../../core/video/normalize.ts';
import { clipKeys } from '../../models/arch/clip.ts';
import { ClipTokenizer } from '../../models/clip-tokenizer.ts';
import { synthesize } from '../../models/convert.ts';
import { l2Normalize } from '../../models/embedder.ts';
import { toFloat16 } from '../../models/onnx/float16.ts';
import { onnx } from '../../models/onnx/proto.ts';
import { syntheticInput } from '../../models/synthetic.ts';

interface Summary {
  shape: number[];
  first16: number[];
  sum: number;
  sumSquares?: number;
  norm: number;
}

interface ClipReference {
  keys: Array<[string, number[]]>;
  input: { name: string; shape: number[] };
  texts: string[];
  textTokens: number[][];
  eotIndex: number[];
  logitScale: number;
  logitScaleExp: number;
  imageEmbeds: number[][];
  imageEmbedsNormalized: number[][];
  textEmbeds: number[][];
  textEmbedsNormalized: number[][];
  logitsPerImage: number[][];
  textEmbedsAllTexts: Summary[];
}

function readReference(arch: EmbedderArchitecture): ClipReference {
  const file = arch === 'clip_vit_b16' ? 'clip_vit_b16.json' : 'clip_vit_b32.json';
  return JSON.parse(readFileSync(new URL(`../../../shared/reference/${file}`, import.meta.url), 'utf8')) as ClipReference;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const SESSION: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 2, graphOptimizationLevel: 'all' };
const DIM = 512;

async function run(model: string | Uint8Array, feeds: Record<string, ort.Tensor>, output: string): Promise<Float32Array> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, SESSION) : await ort.InferenceSession.create(model, SESSION);
  try {
    const result = await session.run(feeds);
    const out = result[output];
    if (out === undefined) throw new Error(`no ${output} output`);
    return out.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe.each(['clip_vit_b16', 'clip_vit_b32'] as const)('%s synthesized (models synthesize) from the synthetic state dict', (arch) => {
  const ref = readReference(arch);
  let dir: string;
  let manifest: EmbedderManifest;
  let imageEmbeds: Float32Array;
  let textEmbeds: Float32Array;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `vidx-${arch}-`));
    const pair = await synthesize(arch, dir);
    manifest = EmbedderManifestSchema.parse(JSON.parse(await readFile(pair.manifestPath, 'utf8')));
    const shape = ref.input.shape;
    imageEmbeds = await run(join(dir, manifest.onnx), { image: new ort.Tensor('float32', syntheticInput('image', shape), shape) }, 'image_embeds');
    textEmbeds = await run(join(dir, manifest.text.onnx), { text: new ort.Tensor('int32', Int32Array.from(ref.textTokens.flat()), [ref.textTokens.length, 77]) }, 'text_embeds');
  }, 600_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has the state-dict layout of CLIP(...): the 302 tensors, same names, order and shapes', () => {
    expect(clipKeys(arch)).toEqual(ref.keys);
    expect(ref.keys).toHaveLength(302);
  });

  it('writes <arch>.json (embed-text-image), <arch>.image.onnx (image [N,3,224,224]) and <arch>.text.onnx (text [N,77] int32)', () => {
    expect(manifest).toMatchObject({
      task: 'embed-text-image',
      architecture: arch,
      onnx: `${arch}.image.onnx`,
      image: { input: { name: 'image', shape: ['N', 3, 224, 224] }, output: 'image_embeds' },
      text: { onnx: `${arch}.text.onnx`, input: { name: 'text', shape: ['N', 77], dtype: 'int32' }, output: 'text_embeds' },
      uint8: { onnx: `${arch}.image.u8.onnx`, input: 'image_u8', layout: 'NHWC' },
      embedDim: 512,
      shortSide: 224,
      crop: 224,
      trained: false,
    });
    expect(manifest.logitScale).toBeCloseTo(ref.logitScale, 6);
  });

  it('gives encode_image (unnormalized, max |diff| < 1e-4) and its L2-normalized form (< 1e-4)', () => {
    const raw = maxAbsDiff(imageEmbeds, ref.imageEmbeds.flat());
    const normalized = maxAbsDiff(l2Normalize(imageEmbeds, DIM), ref.imageEmbedsNormalized.flat());
    console.log(`${arch}: image embeds max |diff| ${raw.toExponential(2)}, normalized ${normalized.toExponential(2)}`);
    expect(raw).toBeLessThan(1e-4);
    expect(normalized).toBeLessThan(1e-4);
  });

  it('gives encode_text of texts 0-3 (unnormalized and normalized, max |diff| < 1e-4)', () => {
    const four = textEmbeds.slice(0, 4 * DIM);
    const raw = maxAbsDiff(four, ref.textEmbeds.flat());
    const normalized = maxAbsDiff(l2Normalize(four, DIM), ref.textEmbedsNormalized.flat());
    console.log(`${arch}: text embeds max |diff| ${raw.toExponential(2)}, normalized ${normalized.toExponential(2)}`);
    expect(raw).toBeLessThan(1e-4);
    expect(normalized).toBeLessThan(1e-4);
  });

  it('pools every text at its first end-of-text token: all 10 texts (empty, truncated, literal special tokens) match', () => {
    ref.textEmbedsAllTexts.forEach((summary, t) => {
      const row = textEmbeds.slice(t * DIM, (t + 1) * DIM);
      expect(maxAbsDiff(row.slice(0, 16), summary.first16)).toBeLessThan(1e-4);
      const norm = Math.sqrt(row.reduce((a, v) => a + v * v, 0));
      expect(Math.abs(norm - summary.norm) / summary.norm).toBeLessThan(1e-5);
    });
  });

  it('gives CLIP.forward logits: exp(logitScale) times the cosines (|diff| < 1e-5)', () => {
    const img = l2Normalize(imageEmbeds, DIM);
    const txt = l2Normalize(textEmbeds.slice(0, 4 * DIM), DIM);
    const scale = Math.exp(manifest.logitScale);
    const logits = [0, 1, 2, 3].map((t) => scale * img.reduce((a, v, i) => a + v * txt[t * DIM + i]!, 0));
    const diff = maxAbsDiff(logits, ref.logitsPerImage[0]!);
    console.log(`${arch}: logits max |diff| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
  });

  it('feeds the text tower the ids clip.tokenize(truncate=True) gives, from the vocabulary beside the manifest', () => {
    const tokenizer = ClipTokenizer.fromFile(join(dir, manifest.tokenizer.vocab), manifest.tokenizer.sha256);
    expect(Array.from(tokenizer.batch(ref.texts))).toEqual(ref.textTokens.flat());
  });

  it('takes rgb24 bytes through the uint8 entry and gives what the float entry gives on the same picture, normalized on the host (< 1e-4)', async () => {
    const c = 224;
    const rgb = new Uint8Array(c * c * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37 + (i >> 9) * 11) & 0xff;
    const lut = normalizationTable(manifest);
    const planar = new Float32Array(3 * c * c);
    for (let p = 0; p < c * c; p++) for (let ch = 0; ch < 3; ch++) planar[ch * c * c + p] = lut[ch * 256 + rgb[p * 3 + ch]!]!;
    const fromFloat = await run(join(dir, manifest.onnx), { image: new ort.Tensor('float32', planar, [1, 3, c, c]) }, 'image_embeds');
    const fromBytes = await run(join(dir, manifest.uint8.onnx), { image_u8: new ort.Tensor('uint8', rgb, [1, c, c, 3]) }, 'image_embeds');
    expect(maxAbsDiff(fromBytes, fromFloat)).toBeLessThan(1e-4);
  }, 120_000);

  it('runs the text tower in float16 close to float32 (cosine > 0.9999 per text)', async () => {
    const fp16 = onnx.ModelProto.encode(toFloat16(onnx.ModelProto.decode(await readFile(join(dir, manifest.text.onnx))))).finish();
    const half = await run(fp16, { text: new ort.Tensor('int32', Int32Array.from(ref.textTokens.slice(0, 4).flat()), [4, 77]) }, 'text_embeds');
    const a = l2Normalize(half, DIM);
    const b = l2Normalize(textEmbeds.slice(0, 4 * DIM), DIM);
    for (let t = 0; t < 4; t++) {
      let cos = 0;
      for (let i = 0; i < DIM; i++) cos += a[t * DIM + i]! * b[t * DIM + i]!;
      expect(cos).toBeGreaterThan(0.9999);
    }
  }, 120_000);
});
