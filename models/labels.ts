/**
 * The label lists, in class-index order (line 1 is class 0), shipped beside this module:
 * Kinetics-400 (`kinetics400_labels.txt`), AVA v2.2 actions (`ava_v2.2_labels.txt`, index =
 * AVA action id - 1) and torchvision's COCO category names by label id
 * (`coco_category_names.txt`, "__background__" at 0, "N/A" for ids COCO leaves unused).
 * A bundled Lambda copies the files next to its bundle; the URLs resolve against wherever the
 * module ends up.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VidxError } from '../core/errors.ts';

export const KINETICS400_CLASSES = 400;
export const AVA_ACTIONS = 80;
/** torchvision's COCO label space: 91 ids, 0 = background. */
export const COCO_LABEL_IDS = 91;
/** The name torchvision gives COCO ids without a category; it may repeat. */
const UNUSED_ID = 'N/A';

const LABELS_URL = new URL('./kinetics400_labels.txt', import.meta.url);
const AVA_URL = new URL('./ava_v2.2_labels.txt', import.meta.url);
const COCO_URL = new URL('./coco_category_names.txt', import.meta.url);

let cached: readonly string[] | undefined;
const cache = new Map<string, readonly string[]>();

/**
 * Parses a label file: one label a line, trailing newline allowed, no blanks, no duplicates
 * (except `repeatable`, a placeholder name such as COCO's "N/A").
 */
export function parseLabels(text: string, expected: number, source: string, repeatable?: string): string[] {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n').map((l) => l.trim());
  const bad = (why: string) =>
    new VidxError('MODEL_LABELS_BAD', `${source}: ${why}`, { hint: 'restore the file from the repository (models/kinetics400_labels.txt)' });
  if (lines.length !== expected) throw bad(`expected ${expected} labels, found ${lines.length}`);
  const blank = lines.findIndex((l) => l.length === 0);
  if (blank >= 0) throw bad(`line ${blank + 1} is empty`);
  const seen = new Map<string, number>();
  lines.forEach((l, i) => {
    const first = seen.get(l);
    if (first !== undefined && l !== repeatable) throw bad(`"${l}" appears on lines ${first + 1} and ${i + 1}`);
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

function loadLabelFile(url: URL, expected: number, repeatable?: string): string[] {
  const key = url.href;
  let labels = cache.get(key);
  if (!labels) {
    let text: string;
    try {
      text = readFileSync(url, 'utf8');
    } catch (e) {
      throw new VidxError('MODEL_LABELS_BAD', `cannot read the labels at ${fileURLToPath(url)}: ${(e as Error).message}`, {
        hint: 'the label files must sit beside the models module (copy models/*.txt next to a bundle)',
        cause: e,
      });
    }
    labels = Object.freeze(parseLabels(text, expected, fileURLToPath(url), repeatable));
    cache.set(key, labels);
  }
  return [...labels];
}

/** The 80 AVA v2.2 action names, index order (index = AVA action id - 1). */
export function loadAvaLabels(): string[] {
  return loadLabelFile(AVA_URL, AVA_ACTIONS);
}

/** torchvision's COCO category names by label id (0 = "__background__", 1 = "person"). */
export function loadCocoLabels(): string[] {
  return loadLabelFile(COCO_URL, COCO_LABEL_IDS, UNUSED_ID);
}

/**
 * Every label vidx can index: Kinetics-400 (clip classification) then AVA v2.2 (per-person
 * detection), each once (a label in both lists appears once). What /actions and /search match.
 */
export function loadSearchVocabulary(): string[] {
  return [...new Set([...loadKinetics400Labels(), ...loadAvaLabels()])];
}
