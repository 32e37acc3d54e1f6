/**
 * A text-image embedder bundle (OpenAI CLIP) at run time: the manifest, its tokenizer (the
 * vocabulary beside the manifest, checked by sha256), the text tower and, on first use, the
 * image tower. Texts go in as strings, pictures as centre-cropped rgb24 bytes (through the
 * uint8 entry) or as normalized float32 (the float entry); out come L2-normalized embeddings.
 * A frame is taken from a picture or a video by ffmpeg, scaled and cropped as the manifest says.
 */
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { VidxError } from '../core/errors.ts';
import { openSession, type DeviceRequest } from '../core/model/engine.ts';
import type { EmbedderManifest, Precision } from '../core/model/manifest.ts';
import { loadModelManifest } from '../core/pipeline/model-ref.ts';
import { ffmpegPath, runTool } from '../core/video/ffmpeg.ts';
import { FFMPEG_EXPR } from '../core/video/normalize.ts';
import { ClipTokenizer } from './clip-tokenizer.ts';

export interface EmbedderOptions {
  device?: DeviceRequest;
  threads?: number;
  log?: (msg: string) => void;
  /** float16 loads the .fp16 files (GPUs); default the manifest's uint8 precision for images, float32 for text. */
  precision?: Precision;
}

export interface TextEmbedding {
  /** The ids fed to the text tower: start, ids, end (unpadded; at most contextLength). */
  tokens: number[];
  truncated: boolean;
  /** L2-normalized. */
  embedding: Float32Array;
}

/** Scales each row of [rows, dim] to unit length (a zero row stays zero). */
export function l2Normalize(data: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < data.length / dim; r++) {
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += data[r * dim + i]! ** 2;
    const norm = Math.sqrt(sum);
    for (let i = 0; i < dim; i++) out[r * dim + i] = norm > 0 ? data[r * dim + i]! / norm : 0;
  }
  return out;
}

function rows(data: Float32Array, dim: number): Float32Array[] {
  return Array.from({ length: data.length / dim }, (_, r) => data.slice(r * dim, (r + 1) * dim));
}

/**
 * ffmpeg arguments for one frame of `source` at `at` seconds (a picture: 0), scaled in RGB so
 * the short side is `shortSide` (swscale's bicubic with its default parameters: measured closer
 * to PIL's bicubic than with B = 0, C = 0.5 set explicitly; see docs/decisions.md), then
 * centre-cropped to crop x crop (torchvision's rounding), as rgb24.
 */
export function frameArgs(source: string, at: number, shortSide: number, crop: number): string[] {
  const vf = [
    'format=rgb24',
    `scale=w='${FFMPEG_EXPR.scaleW(shortSide)}':h='${FFMPEG_EXPR.scaleH(shortSide)}':flags=bicubic+accurate_rnd+full_chroma_int`,
    `crop=w=${crop}:h=${crop}:x='${FFMPEG_EXPR.cropX}':y='${FFMPEG_EXPR.cropY}'`,
  ].join(',');
  const seek = at > 0 ? ['-ss', at.toFixed(3)] : [];
  return ['-hide_banner', '-loglevel', 'error', '-nostdin', ...seek, '-i', source, '-frames:v', '1', '-vf', vf, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
}

/** One frame of a picture or video, scaled and cropped as the manifest says: crop x crop x 3 rgb24 bytes. */
export async function readFrame(source: string, m: Pick<EmbedderManifest, 'shortSide' | 'crop'>, at = 0, signal?: AbortSignal): Promise<Uint8Array> {
  const { stdout } = await runTool(ffmpegPath(), frameArgs(source, at, m.shortSide, m.crop), `frame of ${source} at ${at.toFixed(2)} s`, { signal, timeoutMs: 60_000 });
  const expected = m.crop * m.crop * 3;
  if (stdout.length === 0) throw new VidxError('NO_FRAME', `${source} has no frame at ${at.toFixed(2)} s (past the end?)`, { hint: 'give --at a time within the video' });
  if (stdout.length !== expected) throw new VidxError('VIDEO_DECODE_FAILED', `ffmpeg gave ${stdout.length} bytes for a ${m.crop}x${m.crop} rgb24 frame of ${source}`);
  return new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length);
}

export class TextImageEmbedder {
  private image: ort.InferenceSession | undefined;

  private constructor(
    readonly manifestPath: string,
    readonly manifest: EmbedderManifest,
    readonly tokenizer: ClipTokenizer,
    private readonly text: ort.InferenceSession,
    private readonly options: EmbedderOptions,
  ) {}

  /** Loads the manifest, the tokenizer and the text tower (the image tower waits for the first image). */
  static async load(manifestPath: string, options: EmbedderOptions = {}): Promise<TextImageEmbedder> {
    const manifest = loadModelManifest(manifestPath, 'embed-text-image');
    const tokenizer = ClipTokenizer.fromFile(join(dirname(manifestPath), manifest.tokenizer.vocab), manifest.tokenizer.sha256);
    const textFile = options.precision === 'float16' ? manifest.text.onnxFloat16 : manifest.text.onnx;
    if (textFile === null) throw new VidxError('MODEL_ONNX_MISSING', `${manifestPath} has no float16 text tower`, { hint: 'convert the model with float16 forms, or use float32' });
    const { session } = await openSession(manifestPath, { onnx: textFile, architecture: manifest.architecture }, options, 'text tower');
    return new TextImageEmbedder(manifestPath, manifest, tokenizer, session, options);
  }

  /** Tokenizes (clip.tokenize, truncate=True) and embeds each text. */
  async embedTexts(texts: readonly string[]): Promise<TextEmbedding[]> {
    const length = this.manifest.tokenizer.contextLength;
    const tokenized = texts.map((t) => this.tokenizer.tokenize(t, length));
    const ids = new Int32Array(texts.length * length);
    tokenized.forEach((t, i) => ids.set(t.tokens, i * length));
    const { input, output } = this.manifest.text;
    const result = await this.text.run({ [input.name]: new ort.Tensor('int32', ids, [texts.length, length]) });
    const embeds = result[output]!.data as Float32Array;
    const normalized = rows(l2Normalize(embeds, this.manifest.embedDim), this.manifest.embedDim);
    return tokenized.map((t, i) => ({ tokens: t.tokens, truncated: t.truncated, embedding: normalized[i]! }));
  }

  private async imageSession(): Promise<ort.InferenceSession> {
    if (this.image) return this.image;
    const u8 = this.manifest.uint8;
    const file = (this.options.precision ?? u8.precision) === 'float16' ? u8.onnxFloat16 : u8.onnx;
    if (file === null) throw new VidxError('MODEL_ONNX_MISSING', `${this.manifestPath} has no float16 image entry`, { hint: 'convert the model with float16 forms, or use float32' });
    this.image = (await openSession(this.manifestPath, { onnx: file, architecture: this.manifest.architecture }, this.options, 'image tower, uint8 entry')).session;
    return this.image;
  }

  /** Embeds N centre-cropped rgb24 pictures (N x crop x crop x 3 bytes); unnormalized when `raw`. */
  async embedImages(rgb: Uint8Array, count: number, raw = false): Promise<Float32Array[]> {
    const c = this.manifest.crop;
    if (rgb.length !== count * c * c * 3) throw new VidxError('MODEL_INPUT_MISMATCH', `expected ${count} x ${c} x ${c} x 3 bytes, got ${rgb.length}`);
    const session = await this.imageSession();
    const result = await session.run({ [this.manifest.uint8.input]: new ort.Tensor('uint8', rgb, [count, c, c, 3]) });
    const embeds = result[this.manifest.image.output]!.data as Float32Array;
    return rows(raw ? embeds : l2Normalize(embeds, this.manifest.embedDim), this.manifest.embedDim);
  }

  /** A picture, or the frame of a video at `at` seconds, embedded (L2-normalized). */
  async embedFile(source: string, at = 0): Promise<Float32Array> {
    return (await this.embedImages(await readFrame(source, this.manifest, at), 1))[0]!;
  }

  async close(): Promise<void> {
    await this.text.release();
    await this.image?.release();
  }
}
