/**
 * The Kinetics-400 label list, in class-index order (line 1 is class 0), shipped beside this
 * module as `kinetics400_labels.txt`. A bundled Lambda copies the file next to its bundle;
 * the URL below resolves against wherever the module ends up.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VidxError } from '../core/errors.ts';

export const KINETICS400_CLASSES = 400;

const LABELS_URL = new URL('./kinetics400_labels.txt', import.meta.url);

let cached: readonly string[] | undefined;

/** Parses a label file: one label a line, trailing newline allowed, no blanks, no duplicates. */
export function parseLabels(text: string, expected: number, source: string): string[] {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n').map((l) => l.trim());
  const bad = (why: string) =>
    new VidxError('MODEL_LABELS_BAD', `${source}: ${why}`, { hint: 'restore the file from the repository (models/kinetics400_labels.txt)' });
  if (lines.length !== expected) throw bad(`expected ${expected} labels, found ${lines.length}`);
  const blank = lines.findIndex((l) => l.length === 0);
  if (blank >= 0) throw bad(`line ${blank + 1} is empty`);
  const seen = new Map<string, number>();
  lines.forEach((l, i) => {
    const first = seen.get(l);
    if (first !== undefined) throw bad(`"${l}" appears on lines ${first + 1} and ${i + 1}`);
    seen.set(l, i);
  });
  return lines;
}

/** The 400 Kinetics-400 class names, index order. Read once, then shared (a fresh copy per call). */
export function loadKinetics400Labels(): string[] {
  if (!cached) {
    let text: string;
    try {
      text = readFileSync(LABELS_URL, 'utf8');
    } catch (e) {
      throw new VidxError('MODEL_LABELS_BAD', `cannot read the Kinetics-400 labels at ${fileURLToPath(LABELS_URL)}: ${(e as Error).message}`, {
        hint: 'the label file must sit beside the models module (copy models/kinetics400_labels.txt next to a bundle)',
        cause: e,
      });
    }
    cached = Object.freeze(parseLabels(text, KINETICS400_CLASSES, fileURLToPath(LABELS_URL)));
  }
  return [...cached];
}
