/**
 * The model `vidx local` runs when given none: the cached official checkpoint; else, on a first
 * start, the official checkpoint pulled now (download with progress, sha256, converted into the
 * cache: models/pull.ts); else, when the network does not answer within a few seconds or
 * pulling is off (--no-pull, VIDX_NO_PULL=1), synthetic weights at once, said plainly.
 */
import type { Architecture } from '../core/model/manifest.ts';
import { isVidxError } from '../core/errors.ts';
import { ENV } from '../core/names.ts';
import { pull, type PullProgress } from '../models/pull.ts';
import { readCached, resolveCacheDir, resolveDefaultModel } from '../models/store.ts';

const ENV_NO_PULL = ENV.noPull;

/** Time a first-start pull waits for the zoo to answer before falling back: offline is told fast. */
export const FIRST_RUN_CONNECT_TIMEOUT_MS = 5_000;

export interface StartModel {
  manifestPath: string;
  trained: boolean;
  /** How it was chosen: cached official, pulled now, or synthetic (and why). */
  source: 'cached' | 'pulled' | 'synthetic';
  /** For synthetic weights: why no official ones (offline, pulling off, manual download only). */
  why?: string;
}

export interface StartModelOptions {
  cache?: string | undefined;
  pull: boolean;
  log: (line: string) => void;
  onProgress?: (p: PullProgress) => void;
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
}

/** Whether a first start may download: --no-pull not given, and VIDX_NO_PULL (LOCAL_SETTINGS noPull) not set. */
export function pullWanted(flag: boolean, noPullSetting: boolean): boolean {
  return flag && !noPullSetting;
}

export async function startModel(arch: Architecture, o: StartModelOptions): Promise<StartModel> {
  const env = o.env ?? process.env;
  const cacheDir = resolveCacheDir(o.cache, env);
  const official = readCached(cacheDir, 'official', arch);
  if (official) return { manifestPath: official.manifestPath, trained: official.manifest.trained, source: 'cached' };
  let why = `pulling is off (--no-pull or ${ENV_NO_PULL}=1)`;
  if (o.pull) {
    o.log(`first start: pulling the official ${arch} weights (\`--no-pull\` or ${ENV_NO_PULL}=1 skips this)`);
    try {
      const r = await pull(arch, { cache: cacheDir, env, onProgress: o.onProgress, connectTimeoutMs: o.connectTimeoutMs ?? FIRST_RUN_CONNECT_TIMEOUT_MS });
      o.log(`pulled ${arch}: ${r.manifestPath} (checkpoint sha256 ${r.sha256}${r.checksum === 'verified' ? ', verified' : ''})`);
      return { manifestPath: r.manifestPath, trained: r.manifest.trained, source: 'pulled' };
    } catch (e) {
      if (!isVidxError(e) || !['MODEL_DOWNLOAD_FAILED', 'MODEL_MANUAL_DOWNLOAD', 'MODEL_CHECKSUM_MISMATCH'].includes(e.code)) throw e;
      why = e.code === 'MODEL_DOWNLOAD_FAILED' ? `offline? ${e.message}` : e.message;
    }
  }
  const synthetic = await resolveDefaultModel({ cache: cacheDir, architecture: arch, log: o.log });
  return { manifestPath: synthetic.manifestPath, trained: synthetic.trained, source: 'synthetic', why };
}
