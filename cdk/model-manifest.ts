/**
 * The model manifest bundled beside the segmenter, which plans each video's windows with it
 * (frames, sampling rate, fps) and records the model and whether it is trained.
 *
 * Where it comes from, first match wins:
 *   1. `modelManifest` in the CDK config (a path, relative to the repository root);
 *   2. the manifest `npx vidx models pull <arch>` wrote into the model cache
 *      (`$VIDX_CACHE` or ~/.cache/vidx/models, `official/<arch>.json`): the exact manifest of the
 *      converted checkpoint, the one the worker image builds too;
 *   3. otherwise a planning manifest generated from models/manifests.ts: the same window settings
 *      the worker uses, but with synthetic provenance and `trained: false` (the checkpoint's sha256
 *      is not known before it is downloaded); the app warns, and the README's Deploy section says to pull first.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ArchitectureSchema } from '../core/model/manifest.ts';
import { manifestFor, SYNTHETIC_RULE } from '../models/manifests.ts';
import { cachedManifestPath, resolveCacheDir } from '../models/store.ts';
import { loadManifest } from '../core/pipeline/model-ref.ts';
import { REPO_ROOT } from './paths.ts';

export type ManifestOrigin = 'configured' | 'pulled' | 'generated';

export interface SegmenterManifest {
  readonly path: string;
  readonly origin: ManifestOrigin;
  readonly trained: boolean;
}

export function segmenterManifest(model: string, configured?: string, env: NodeJS.ProcessEnv = process.env): SegmenterManifest {
  const arch = ArchitectureSchema.safeParse(model);
  if (!arch.success) throw new Error(`unknown model architecture "${model}"; known: ${ArchitectureSchema.options.join(', ')}`);

  if (configured) {
    const path = resolve(REPO_ROOT, configured);
    if (!existsSync(path)) throw new Error(`modelManifest ${path} does not exist`);
    return checked(path, 'configured', model);
  }
  const pulled = cachedManifestPath(resolveCacheDir(undefined, env), 'official', arch.data);
  if (existsSync(pulled)) return checked(pulled, 'pulled', model);

  const manifest = manifestFor(arch.data, { kind: 'synthetic', rule: `planning copy for the segmenter; ${SYNTHETIC_RULE}` }, false);
  const dir = mkdtempSync(join(tmpdir(), 'vidx-manifest-'));
  const path = join(dir, `${arch.data}.json`);
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return { path, origin: 'generated', trained: false };
}

function checked(path: string, origin: ManifestOrigin, model: string): SegmenterManifest {
  const manifest = loadManifest(path);
  if (manifest.architecture !== model) {
    throw new Error(`${path} is a manifest for ${manifest.architecture}, but the stack deploys ${model}`);
  }
  return { path, origin, trained: manifest.trained };
}
