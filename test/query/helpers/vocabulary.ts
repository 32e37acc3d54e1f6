/** The real Kinetics-400 vocabulary for tests. */
import { existsSync, readFileSync } from 'node:fs';

export function kinetics400(): string[] {
  const inRepo = new URL('../../../models/kinetics400_labels.txt', import.meta.url);
  // TEMPORARY until models/kinetics400_labels.txt lands.
  const file = existsSync(inRepo) ? inRepo : '/work/shared/reference/kinetics400_labels.txt';
  return readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}
