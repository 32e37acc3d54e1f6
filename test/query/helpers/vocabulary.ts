/** The real Kinetics-400 vocabulary for tests (the query Lambda's own). */
import { loadKinetics400Labels } from '../../../models/labels.ts';

export function kinetics400(): string[] {
  return loadKinetics400Labels();
}
