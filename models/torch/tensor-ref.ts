import { checkpointError, CheckpointError } from './errors.ts';
import { ITEM_SIZE, type StoredDType } from './dtypes.ts';

/**
 * A storage named by the pickle (a persistent id): which bytes of the file hold it, not yet read.
 * `key` names the record in the file; a legacy view storage is a slice of its root storage.
 */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: StoredDType,
    /** Elements of `dtype` in this storage. */
    readonly numel: number,
    /** Byte offset of this storage inside the record `key` (legacy storage views; else 0). */
    readonly byteOffset = 0,
  ) {}

  get byteLength(): number {
    return this.numel * ITEM_SIZE[this.dtype];
  }
}

/** A tensor as the pickle describes it: a strided view of a storage whose bytes are read later. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly dtype: StoredDType,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    /** In elements of `dtype`. */
    readonly offset: number,
  ) {}

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** BUILD on a tensor sets Python attributes, which carry no weights: nothing to keep. */
  setState(_state: unknown): void {
    return undefined;
  }
}

function toDims(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw checkpointError(CheckpointError.FORMAT, `tensor ${what} must be a tuple of non-negative integers, got ${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x))}`);
  }
  return v as number[];
}

/** Checks that a tensor's view lies inside its storage, before any byte is read. */
export function makeTensorRef(storage: unknown, offset: unknown, size: unknown, stride: unknown, dtype?: StoredDType): TensorRef {
  if (!(storage instanceof StorageRef)) {
    throw checkpointError(CheckpointError.FORMAT, 'a tensor is rebuilt from something that is not a storage');
  }
  const shape = toDims(size, 'size');
  const strides = toDims(stride, 'stride');
  if (strides.length !== shape.length) {
    throw checkpointError(CheckpointError.FORMAT, `tensor size [${shape.join(', ')}] and stride [${strides.join(', ')}] differ in length`);
  }
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
    throw checkpointError(CheckpointError.FORMAT, `tensor storage offset ${String(offset)} is not a non-negative integer`);
  }
  const ref = new TensorRef(storage, dtype ?? storage.dtype, shape, strides, offset as number);
  if (ref.numel > 0) {
    const lastIndex = ref.offset + shape.reduce((sum, d, i) => sum + (d - 1) * (strides[i] as number), 0);
    const needBytes = (lastIndex + 1) * ITEM_SIZE[ref.dtype];
    if (!Number.isSafeInteger(needBytes) || needBytes > storage.byteLength) {
      throw checkpointError(
        CheckpointError.FORMAT,
        `tensor [${shape.join(', ')}] (stride [${strides.join(', ')}], offset ${ref.offset}) reaches past the end of storage ${storage.key} (${storage.numel} ${storage.dtype})`,
      );
    }
  }
  return ref;
}
