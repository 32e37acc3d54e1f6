/**
 * The synthetic weight rule of ../shared/reference/README.md: deterministic pseudo-random
 * tensors, so a model can be built and proven equal to PyTorchVideo without any download.
 * Weights made this way mean nothing; models built from them must say so (trained: false).
 */
import type { Architecture } from '../core/model/manifest.ts';
import { keyLayout, type KeyLayout } from './arch/index.ts';
import type { StateDict, Tensor } from './tensor.ts';
import { numel } from './tensor.ts';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const GOLDEN_GAMMA = 0x9e3779b9;
const TWO_POW_32 = 2 ** 32;

/** FNV-1a 32-bit of the UTF-8 bytes of `name`. */
export function fnv1a32(name: string): number {
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(name)) h = Math.imul(h ^ byte, FNV_PRIME) >>> 0;
  return h;
}

/** u(name, i) in [0, 1): a murmur3 finalizer over seed + i * golden gamma (all mod 2^32). */
function uniform(seed: number, i: number): number {
  let x = (seed + Math.imul(i, GOLDEN_GAMMA)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return (x >>> 0) / TWO_POW_32;
}

/** Fills a float32 array with f(u) for u = u(name, 0), u(name, 1), ... (computed in float64). */
function fill(name: string, length: number, f: (u: number) => number): Float32Array {
  const seed = fnv1a32(name);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = f(uniform(seed, i));
  return out;
}

/** One state-dict tensor by the rule's table (num_batches_tracked stays 0). */
export function synthesizeTensor(name: string, shape: number[]): Tensor {
  if (name.endsWith('num_batches_tracked')) return { dtype: 'int64', shape, data: new BigInt64Array(numel(shape)) };
  const n = numel(shape);
  const oneD = shape.length === 1;
  let data: Float32Array;
  if (name.endsWith('running_var')) data = fill(name, n, (u) => 1 + 0.5 * u);
  else if (name.endsWith('running_mean')) data = fill(name, n, (u) => 0.1 * (2 * u - 1));
  else if (oneD && name.endsWith('weight')) data = fill(name, n, (u) => 1 + 0.1 * (2 * u - 1));
  else if (oneD && name.endsWith('bias')) data = fill(name, n, (u) => 0.1 * (2 * u - 1));
  else {
    const scale = Math.sqrt(3 / numel(shape.slice(1)));
    data = fill(name, n, (u) => (2 * u - 1) * scale);
  }
  return { dtype: 'float32', shape, data };
}

/** The architecture's full state dict, in its key order, filled by the rule. */
export function synthesizeStateDict(arch: Architecture): StateDict {
  return synthesizeLayout(keyLayout(arch));
}

/**
 * A layout's state dict filled by the rule; integer buffers the modules construct (Swin's
 * relative_position_index) keep their constructed values, as the rule leaves integer tensors.
 */
export function synthesizeLayout(layout: KeyLayout): StateDict {
  return new Map(layout.keys.map(([name, shape]) => [name, layout.integerBuffers.get(name) ?? synthesizeTensor(name, shape)]));
}

/** A model input filled with 0.5 v, v = 2u - 1, seeded by `input:<name>`. */
export function syntheticInput(name: string, shape: number[]): Float32Array {
  return fill(`input:${name}`, numel(shape), (u) => 0.5 * (2 * u - 1));
}
