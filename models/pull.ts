/**
 * `vidx models pull`: the official Kinetics-400 checkpoint from the PyTorchVideo model zoo,
 * streamed to disk and hashed on the way, then converted into the cache.
 *
 * The zoo publishes no checksums. KNOWN_SHA256 holds the ones we have verified; an unknown one is
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
import type { Architecture } from '../core/model/manifest.ts';
import { convert, type ModelPair } from './convert.ts';
import { cacheFolder, readCached, resolveCacheDir } from './store.ts';


export const ENV_ZOO_URL = 'VIDX_MODEL_ZOO_URL';
export const DEFAULT_ZOO_URL = 'https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics';

/** Checkpoint file per architecture (pytorchvideo/models/hub checkpoint_paths). */
export const ZOO_FILES: Record<Architecture, string> = {
  slowfast_r50: 'SLOWFAST_8x8_R50.pyth',
  i3d_r50: 'I3D_8x8_R50.pyth',
};

/** sha256 of the official files, where verified. None is published by the zoo; none verified yet. */
export const KNOWN_SHA256: Record<Architecture, string | null> = {
  slowfast_r50: null,
  i3d_r50: null,
};

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
  url: string;
  sha256: string;
  /** false when the cache already held the model (nothing was downloaded). */
  downloaded: boolean;
  /** 'verified': matched a known/given checksum; 'recorded': none known, the computed one is kept. */
  checksum: 'verified' | 'recorded';
}

export function zooUrl(arch: Architecture, env: NodeJS.ProcessEnv = process.env): string {
  const base = (env[ENV_ZOO_URL] || DEFAULT_ZOO_URL).replace(/\/+$/, '');
  return `${base}/${ZOO_FILES[arch]}`;
}

function downloadFailed(arch: Architecture, url: string, why: string, cacheDir: string, cause?: unknown): VidxError {
  const file = ZOO_FILES[arch];
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
  const url = zooUrl(arch, env);
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
        return { architecture: arch, onnxPath, manifestPath, manifest, onnxBytes, url: source.url ?? url, sha256: source.sha256, downloaded: false, checksum: expected ? 'verified' : 'recorded' };
      }
    }
  }

  // One folder per process: concurrent pulls into the same cache never share a partial file.
  const downloads = join(cacheFolder(cacheDir, 'downloads'), String(process.pid));
  try {
    await mkdir(downloads, { recursive: true });
  } catch (e) {
    throw downloadFailed(arch, url, `cannot create ${downloads}: ${(e as Error).message}`, cacheDir, e);
  }
  const file = join(downloads, ZOO_FILES[arch]);
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
    throw downloadFailed(arch, url, (e as Error).message, cacheDir, e);
  }
  if (expected !== null && got.sha256 !== expected) {
    await rm(downloads, { recursive: true, force: true });
    throw new VidxError('MODEL_CHECKSUM_MISMATCH', `${url} has sha256 ${got.sha256}, expected ${expected}`, {
      hint: 'the download is corrupt or not the official file: pull again, or check the mirror set in VIDX_MODEL_ZOO_URL',
    });
  }
  try {
    await rename(part, file);
    options.onProgress?.({ phase: 'convert', received: got.bytes, total: got.bytes });
    const pair = await convert(arch, file, cacheFolder(cacheDir, 'official'), { url, sha256: got.sha256 });
    return { ...pair, url, sha256: got.sha256, downloaded: true, checksum: expected ? 'verified' : 'recorded' };
  } finally {
    await rm(downloads, { recursive: true, force: true });
  }
}
