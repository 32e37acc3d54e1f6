import { VidxError } from '../../core/errors.ts';
import type { StateDict } from '../tensor.ts';
import type { KeyShape } from './key-layout.ts';

/** Shown per category in the error message; the rest are counted. */
const LISTED = 5;

/**
 * load_state_dict(strict=True): every expected key present with its shape, nothing extra.
 * Refuses with MODEL_STATE_MISMATCH naming the first few offenders of each kind.
 */
export function checkStateDict(architecture: string, sd: StateDict, expected: readonly KeyShape[]): void {
  const expectedNames = new Set<string>();
  const missing: string[] = [];
  const misshaped: string[] = [];
  for (const [name, shape] of expected) {
    expectedNames.add(name);
    const tensor = sd.get(name);
    // BatchNorm's step counter (PyTorch >= 0.4.1) is absent from older checkpoints such as
    // rgb_imagenet.pt; PyTorch loads those too (BatchNorm's versioned _load_from_state_dict), and
    // eval never reads it.
    if (tensor === undefined && name.endsWith('.num_batches_tracked')) continue;
    if (tensor === undefined) missing.push(name);
    else if (!sameShape(tensor.shape, shape)) misshaped.push(`${name} is [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  const unexpected = [...sd.keys()].filter((name) => !expectedNames.has(name));
  if (missing.length + misshaped.length + unexpected.length === 0) return;

  const parts = [
    describe('missing', missing),
    describe('wrong shape', misshaped),
    describe('unexpected', unexpected),
  ].filter((p) => p !== '');
  throw new VidxError('MODEL_STATE_MISMATCH', `state dict does not fit ${architecture}: ${parts.join('; ')}`, {
    hint: `use a checkpoint of ${architecture} (its state dict, or a dict holding it as model_state or state_dict), or pick the architecture it was trained as`,
  });
}

function describe(kind: string, names: readonly string[]): string {
  if (names.length === 0) return '';
  const listed = names.slice(0, LISTED).join(', ');
  const more = names.length > LISTED ? ` and ${names.length - LISTED} more` : '';
  return `${names.length} ${kind} (${listed}${more})`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
