/** Reads the model manifest the segmenter plans windows with (and the worker runs). */
import { readFileSync } from 'node:fs';
import { VidxError } from '../errors.ts';
import { ManifestSchema, type Manifest } from '../model/manifest.ts';


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
