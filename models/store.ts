/**
 * The model cache: `--cache <dir>`, else $VIDX_CACHE, else ~/.cache/vidx/models.
 *
 *   <cache>/official/<arch>.onnx|json    converted from the PyTorchVideo model zoo (vidx models pull)
 *   <cache>/synthetic/<arch>.onnx|json   synthetic weights, made on first use (trained: false)
 *   <cache>/downloads/<pid>/             checkpoints while they download (removed once converted)
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { VidxError } from '../core/errors.ts';
import { ARCHITECTURES, ModelManifestSchema, type Architecture, type ModelManifest } from '../core/model/manifest.ts';
import { synthesize } from './convert.ts';
import { modelFileNames } from './manifests.ts';

export const ENV_CACHE = 'VIDX_CACHE';

/** The architecture `vidx analyze` and `vidx local` use when given no model. */
export const DEFAULT_ARCHITECTURE: Architecture = 'slowfast_r50';

export type CacheKind = 'official' | 'synthetic';

export function resolveCacheDir(cache?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = cache ?? env[ENV_CACHE];
  return resolve(chosen && chosen.length > 0 ? chosen : join(homedir(), '.cache', 'vidx', 'models'));
}

export function cacheFolder(cacheDir: string, kind: CacheKind | 'downloads'): string {
  return join(cacheDir, kind);
}

export function cachedManifestPath(cacheDir: string, kind: CacheKind, arch: Architecture): string {
  return join(cacheFolder(cacheDir, kind), modelFileNames(arch).manifest);
}

export interface CachedModel {
  kind: CacheKind;
  manifestPath: string;
  manifest: ModelManifest;
}

/**
 * The cached pair of `kind` for `arch`: null when absent; MODEL_CACHE_BROKEN when the manifest is
 * unreadable, invalid, for another architecture, or its ONNX file is gone.
 */
export function readCached(cacheDir: string, kind: CacheKind, arch: Architecture): CachedModel | null {
  const manifestPath = cachedManifestPath(cacheDir, kind, arch);
  if (!existsSync(manifestPath)) return null;
  const broken = (why: string, cause?: unknown) =>
    new VidxError('MODEL_CACHE_BROKEN', `cached model ${manifestPath} is unusable: ${why}`, {
      hint: kind === 'official' ? `run \`vidx models pull ${arch} --force\` to fetch it again` : `delete ${dirname(manifestPath)} and it is made again on first use`,
      cause,
    });
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw broken((e as Error).message, e);
  }
  const parsed = ModelManifestSchema.safeParse(json);
  if (!parsed.success) throw broken(parsed.error.issues[0]?.message ?? 'not a vidx manifest');
  if (parsed.data.architecture !== arch) throw broken(`it describes ${parsed.data.architecture}`);
  const u8 = parsed.data.uint8;
  const embedderFiles = parsed.data.task === 'embed-text-image' ? [parsed.data.text.onnx, parsed.data.text.onnxFloat16, parsed.data.tokenizer.vocab] : [];
  for (const file of [parsed.data.onnx, u8?.onnx, u8?.onnxFloat16, ...embedderFiles]) {
    if (file && !existsSync(join(dirname(manifestPath), file))) throw broken(`${file} is missing beside it`);
  }
  return { kind, manifestPath, manifest: parsed.data };
}

export type CacheState = CachedModel | { kind: CacheKind; error: string } | null;

export interface ListEntry {
  architecture: Architecture;
  official: CacheState;
  synthetic: CacheState;
}

function state(cacheDir: string, kind: CacheKind, arch: Architecture): CacheState {
  try {
    return readCached(cacheDir, kind, arch);
  } catch (e) {
    if (e instanceof VidxError && e.code === 'MODEL_CACHE_BROKEN') return { kind, error: e.message };
    throw e;
  }
}

/** Every known architecture and what the cache holds for it. */
export function list(options: { cache?: string } = {}): { cacheDir: string; entries: ListEntry[] } {
  const cacheDir = resolveCacheDir(options.cache);
  return {
    cacheDir,
    entries: ARCHITECTURES.map((architecture) => ({
      architecture,
      official: state(cacheDir, 'official', architecture),
      synthetic: state(cacheDir, 'synthetic', architecture),
    })),
  };
}

export interface DefaultModel {
  manifestPath: string;
  trained: boolean;
}

/**
 * The model to use when none is given: the pulled official SlowFast R50 if cached, else a
 * synthetic SlowFast R50 in the cache (built on first use; its labels mean nothing).
 */
export async function resolveDefaultModel(options: { cache?: string; log?: (msg: string) => void; architecture?: Architecture } = {}): Promise<DefaultModel> {
  const cacheDir = resolveCacheDir(options.cache);
  const arch = options.architecture ?? DEFAULT_ARCHITECTURE;
  const official = readCached(cacheDir, 'official', arch);
  if (official) return { manifestPath: official.manifestPath, trained: official.manifest.trained };
  const synthetic = readCached(cacheDir, 'synthetic', arch);
  if (synthetic) return { manifestPath: synthetic.manifestPath, trained: synthetic.manifest.trained };
  options.log?.(
    `no official ${arch} in ${cacheDir}: building one with synthetic weights (labels mean nothing; \`vidx models pull ${arch}\` fetches the real one)`,
  );
  const pair = await synthesize(arch, cacheFolder(cacheDir, 'synthetic'));
  return { manifestPath: pair.manifestPath, trained: pair.manifest.trained };
}
