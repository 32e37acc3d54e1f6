import type { StateDict } from './tensor.ts';

/** The prefix nn.DataParallel / DistributedDataParallel put before every key of the model it wraps. */
export const DATA_PARALLEL_PREFIX = 'module.';

/**
 * The state dict of the wrapped model when `sd` was saved from a DataParallel wrapper (every key
 * starts with "module.", as in MARS's released `{arch, state_dict}` checkpoints); `sd` itself
 * otherwise. A dict where only some keys carry the prefix is left alone, so the strict key check
 * names them.
 */
export function unwrapDataParallel(sd: StateDict): StateDict {
  const keys = [...sd.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith(DATA_PARALLEL_PREFIX))) return sd;
  return new Map([...sd].map(([k, t]) => [k.slice(DATA_PARALLEL_PREFIX.length), t]));
}
