/** Logits -> probabilities -> the k best labels. Pure functions over row-major [rows, classes]. */
import { VidxError } from '../errors.ts';
import type { LabelScore } from '../result.ts';


function checkRows(values: Float32Array, classes: number): number {
  if (!Number.isInteger(classes) || classes < 1 || values.length % classes !== 0) {
    throw new VidxError('SCORES_BAD_SHAPE', `${values.length} values do not make rows of ${classes} classes`, {
      hint: 'pass the logits of the model output ([batch, classes]) and the manifest output.classes',
    });
  }
  return values.length / classes;
}

/**
 * Softmax of each row, numerically stable: exp(x - max(row)) / sum, accumulated in float64, so
 * large logits never overflow. A row holding NaN gives NaN (never a made-up distribution).
 */
export function softmax(logits: Float32Array, classes: number): Float32Array {
  const rows = checkRows(logits, classes);
  const out = new Float32Array(logits.length);
  const exps = new Float64Array(classes);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[base + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[base + c]! - max);
      exps[c] = e;
      sum += e;
    }
    for (let c = 0; c < classes; c++) out[base + c] = exps[c]! / sum;
  }
  return out;
}

/**
 * The k highest probabilities of row `row`, best first; ties keep the lower class index first.
 * `labels[i]` names class i.
 */
export function topK(probs: Float32Array, row: number, classes: number, k: number, labels: readonly string[]): LabelScore[] {
  const rows = checkRows(probs, classes);
  if (!Number.isInteger(row) || row < 0 || row >= rows) {
    throw new VidxError('SCORES_BAD_SHAPE', `row ${row} is outside the ${rows} rows`, { hint: 'pass a row index in [0, batch)' });
  }
  if (!Number.isInteger(k) || k < 1 || k > classes) {
    throw new VidxError('SCORES_BAD_SHAPE', `k must be a whole number in [1, ${classes}], got ${k}`, { hint: 'ask for between 1 and classes labels' });
  }
  if (labels.length !== classes) {
    throw new VidxError('SCORES_BAD_SHAPE', `${labels.length} labels for ${classes} classes`, { hint: 'use the label list of the manifest that produced the logits' });
  }
  const base = row * classes;
  // Partial selection: keep the best k in a small sorted list (k is 5 in practice, classes 400).
  const best: number[] = [];
  const better = (a: number, b: number) => probs[base + a]! > probs[base + b]! || (probs[base + a] === probs[base + b] && a < b);
  for (let c = 0; c < classes; c++) {
    if (best.length === k && !better(c, best[k - 1]!)) continue;
    let at = best.length === k ? k - 1 : best.length;
    while (at > 0 && better(c, best[at - 1]!)) at--;
    best.splice(at, 0, c);
    if (best.length > k) best.pop();
  }
  return best.map((c) => ({ label: labels[c]!, index: c, p: Math.min(1, Math.max(0, probs[base + c]!)) }));
}
