import { VidxError } from '../../core/errors.ts';
import type { ArchitectureDefinition, ModelInput } from './definition.ts';

export const MODEL_NOT_BUILT = 'MODEL_NOT_BUILT';

/**
 * A registered architecture whose definition has not landed yet: its inputs are known (so its
 * manifest and window plan exist), but every build fails with MODEL_NOT_BUILT instead of
 * producing a graph.
 */
export function notBuiltYet(architecture: string, inputs: ModelInput[]): ArchitectureDefinition {
  return {
    inputs,
    walk(): void {
      throw new VidxError(MODEL_NOT_BUILT, `${architecture} is registered but its network definition is not built yet`, {
        hint: 'pick another architecture (vidx models list shows them all) until this one ships',
      });
    },
  };
}
