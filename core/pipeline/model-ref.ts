/** Reads the model manifest the segmenter plans windows with (and the worker runs). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ModelRef } from '../records.ts';
import { VidxError } from '../errors.ts';
import { ManifestSchema, ModelManifestSchema, type Manifest, type ModelManifest, type Task } from '../model/manifest.ts';


function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new VidxError('MODEL_MANIFEST_BAD', `cannot read the model manifest ${path}: ${(e as Error).message}`, {
      hint: 'set VIDX_MODEL to a manifest.json (vidx models synthesize i3d_r50 --out <dir> makes one)',
      cause: e,
    });
  }
}

/**
 * A manifest of the given task (any kind of model). A manifest of another task is refused
 * with MODEL_MANIFEST_BAD naming both.
 */
export function loadModelManifest<T extends Task>(path: string, task: T): Extract<ModelManifest, { task: T }> {
  const r = ModelManifestSchema.safeParse(readJson(path));
  if (!r.success) {
    throw new VidxError('MODEL_MANIFEST_BAD', `${path} is not a vidx model manifest: ${r.error.issues[0]?.message ?? ''}`);
  }
  if (r.data.task !== task) {
    throw new VidxError('MODEL_MANIFEST_BAD', `${path} is a ${r.data.task} model (${r.data.architecture}), not a ${task} one`, {
      hint: `pass the manifest of a ${task} model (vidx models synthesize|pull <arch>)`,
    });
  }
  return r.data as Extract<ModelManifest, { task: T }>;
}

export function loadManifest(path: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new VidxError('MODEL_MANIFEST_BAD', `cannot read the model manifest ${path}: ${(e as Error).message}`, {
      hint: 'set VIDX_MODEL to a manifest.json (vidx models synthesize i3d_r50 --out <dir> makes one)',
      cause: e,
    });
  }
  const r = ManifestSchema.safeParse(json);
  if (!r.success) {
    throw new VidxError('MODEL_MANIFEST_BAD', `${path} is not a vidx model manifest: ${r.error.issues[0]?.message ?? ''}`);
  }
  return r.data;
}

/** sha256 of a manifest file's bytes: which model (architecture, weights, labels) made a timeline. */
export function manifestSha256(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch (e) {
    throw new VidxError('MODEL_MANIFEST_BAD', `cannot read the model manifest ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** The manifest and its identity as records and events state it. */
export function loadModelRef(path: string): { manifest: Manifest; ref: ModelRef } {
  const manifest = loadManifest(path);
  return { manifest, ref: { architecture: manifest.architecture, manifestSha256: manifestSha256(path), trained: manifest.trained } };
}
