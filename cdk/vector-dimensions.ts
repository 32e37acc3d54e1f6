/**
 * The vector length of each space of the vector index, read from the model manifests the stack
 * deploys: the action model's pooled features, the AVA model's per-box features, CLIP's embedding.
 */
import { DETECTION_MODELS } from '../core/detection/analyses.ts';
import { ArchitectureSchema } from '../core/model/manifest.ts';
import type { VectorSpace } from '../core/vectors/port.ts';
import { manifestFor } from '../models/manifests.ts';
import { CLIP_CONFIGS } from '../models/arch/clip.ts';

/** The CLIP model whose embeddings fill the clip spaces (both sizes embed in 512 dimensions). */
export const VECTOR_CLIP_MODEL = 'clip_vit_b32' as const;

const PLANNING = { kind: 'synthetic', rule: 'dimensions for the vector index' } as const;

function featuresOf(manifest: { features?: { size: number } | undefined }, what: string): number {
  if (!manifest.features) throw new Error(`${what}'s manifest names no features output`);
  return manifest.features.size;
}

export function vectorDimensions(model: string): Record<VectorSpace, number> {
  const arch = ArchitectureSchema.parse(model);
  const actions = manifestFor(DETECTION_MODELS.actions, PLANNING, false);
  const embedDim = CLIP_CONFIGS[VECTOR_CLIP_MODEL].embedDim;
  return {
    'window.clip': embedDim,
    'window.action': featuresOf(manifestFor(arch, PLANNING, false) as { features?: { size: number } }, model),
    'person.clip': embedDim,
    'person.action': featuresOf(actions as { features?: { size: number } }, DETECTION_MODELS.actions),
  };
}
