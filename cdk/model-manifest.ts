/**
 * The model manifest bundled beside the segmenter, which plans each video's windows with it
 * (frames, sampling rate, fps) and records the model and whether it is trained.
 *
 * Where it comes from is the `modelManifest` setting of the CDK config, never a guess:
 *   - `generated` (the default): a planning manifest generated from models/manifests.ts: the same
 *     window settings the worker uses, but with synthetic provenance and `trained: false` (the
 *     checkpoint's sha256 is not known before it is downloaded); synth warns about it;
 *   - `pulled`: the manifest `npx vidx models pull <arch>` wrote into the model cache
 *     (`$VIDX_CACHE` or ~/.cache/vidx/models, `official/<arch>.json`): the exact manifest of the
 *     converted checkpoint, the one the worker image builds too; missing = MODEL_MANIFEST_MISSING;
 *   - any other value: a path to a manifest.json, relative to the repository root.
 * Reading the home cache only when asked keeps a synth reproducible: the same config gives the
 * same template on every machine, whatever was pulled there before.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { VidxError } from '../core/errors.ts';
import { type Architecture, ArchitectureSchema } from '../core/model/manifest.ts';
import { loadManifest } from '../core/pipeline/model-ref.ts';
import { manifestFor, SYNTHETIC_RULE } from '../models/manifests.ts';
import { cachedManifestPath, resolveCacheDir } from '../models/store.ts';
import { REPO_ROOT } from './paths.ts';

/** The two `modelManifest` values that are not paths. */
export const GENERATED_MANIFEST = 'generated';
export const PULLED_MANIFEST = 'pulled';

export type ManifestOrigin = 'configured' | 'pulled' | 'generated';

export interface SegmenterManifest {
  readonly model: Architecture;
  readonly path: string;
  readonly origin: ManifestOrigin;
  readonly trained: boolean;
}

export interface ManifestOptions {
  /** Environment that locates the model cache (`VIDX_CACHE`); read only for `pulled`. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Folder the generated manifest is written to: the cloud assembly (cdk.out), so a synth leaves
   * nothing behind in the system temp folder. Without one, a fresh temp folder (tests, tools).
   */
  readonly outdir?: string;
}

export function segmenterManifest(model: string, source: string = GENERATED_MANIFEST, options: ManifestOptions = {}): SegmenterManifest {
  const arch = ArchitectureSchema.safeParse(model);
  if (!arch.success) {
    throw new VidxError('MODEL_UNKNOWN_ARCH', `unknown model architecture "${model}"; known: ${ArchitectureSchema.options.join(', ')}`);
  }
  if (source === GENERATED_MANIFEST) return generated(arch.data, options.outdir);
  if (source === PULLED_MANIFEST) {
    const pulled = cachedManifestPath(resolveCacheDir(undefined, options.env ?? process.env), 'official', arch.data);
    if (!existsSync(pulled)) {
      throw new VidxError('MODEL_MANIFEST_MISSING', `modelManifest=pulled, but no ${arch.data} manifest is in the model cache (${pulled})`, {
        hint: `run \`npx vidx models pull ${arch.data}\` on this machine first (VIDX_CACHE picks another cache), or set modelManifest=generated`,
      });
    }
    return checked(pulled, 'pulled', arch.data);
  }
  const path = resolve(REPO_ROOT, source);
  if (!existsSync(path)) throw new VidxError('MODEL_MANIFEST_MISSING', `modelManifest ${path} does not exist`);
  return checked(path, 'configured', arch.data);
}

function generated(arch: Architecture, outdir: string | undefined): SegmenterManifest {
  const manifest = manifestFor(arch, { kind: 'synthetic', rule: `planning copy for the segmenter; ${SYNTHETIC_RULE}` }, false);
  const dir = outdir ? join(outdir, 'vidx-segmenter-manifest') : mkdtempSync(join(tmpdir(), 'vidx-manifest-'));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${arch}.json`);
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return { model: arch, path, origin: 'generated', trained: false };
}

function checked(path: string, origin: ManifestOrigin, model: Architecture): SegmenterManifest {
  const manifest = loadManifest(path);
  if (manifest.architecture !== model) {
    throw new VidxError('MODEL_MANIFEST_BAD', `${path} is a manifest for ${manifest.architecture}, but the stack deploys ${model}`);
  }
  return { model, path, origin, trained: manifest.trained };
}
