import type { Tensor } from '../tensor.ts';
import { ITEM_SIZE, TYPED_ARRAY } from './dtypes.ts';
import { checkpointError, CheckpointError } from './errors.ts';
import { PickledObject } from './pickle/values.ts';
import { TensorRef, type StorageRef } from './tensor-ref.ts';

/** Where the bytes of a storage come from (a zip record, a stretch of a legacy file). */
export interface StorageSource {
  /** Exactly `ref.byteLength` bytes, in a buffer of their own. */
  read(ref: StorageRef): Promise<Buffer>;
}

function isRowMajor(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const size = shape[i] as number;
    if (size === 0) return true;
    if (size !== 1 && stride[i] !== expected) return false;
    expected *= size;
  }
  return true;
}

type Indexable = { [i: number]: number | bigint; length: number };

/** Copies a strided view into a new row-major array (the innermost dimension in a tight loop). */
function gatherStrided(src: Indexable, dst: Indexable, shape: readonly number[], stride: readonly number[], offset: number): void {
  const rank = shape.length;
  if (rank === 0) {
    dst[0] = src[offset] as number;
    return;
  }
  const inner = shape[rank - 1] as number;
  const innerStride = stride[rank - 1] as number;
  const index = new Array<number>(rank - 1).fill(0);
  let base = offset;
  for (let out = 0; out < dst.length; out += inner) {
    for (let j = 0, at = base; j < inner; j++, at += innerStride) dst[out + j] = src[at] as number;
    // Advance the outer dimensions like an odometer.
    for (let d = rank - 2; d >= 0; d--) {
      base += stride[d] as number;
      if (++(index[d] as number) < (shape[d] as number)) break;
      base -= (stride[d] as number) * (shape[d] as number);
      index[d] = 0;
    }
  }
}

/**
 * Builds a row-major tensor from its storage's bytes. A contiguous view is a typed array over
 * those bytes (no copy; tensors sharing a storage share memory); a strided view is copied;
 * bfloat16 is widened to float32 (exact).
 */
export function tensorFromStorage(ref: TensorRef, bytes: Buffer): Tensor {
  const item = ITEM_SIZE[ref.dtype];
  const numel = ref.numel;
  const shape = [...ref.shape];
  let storage = bytes;
  if (storage.byteOffset % item !== 0) {
    storage = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(storage);
  }
  const storageItems = Math.floor(storage.length / item);
  if (ref.dtype === 'bfloat16') {
    const src = new Uint16Array(storage.buffer, storage.byteOffset, storageItems);
    const bits = new Uint16Array(numel);
    gatherStrided(src, bits, ref.shape, ref.stride, ref.offset);
    const out = new Float32Array(numel);
    const outBits = new Uint32Array(out.buffer);
    for (let i = 0; i < numel; i++) outBits[i] = (bits[i] as number) << 16;
    return { dtype: 'float32', shape, data: out };
  }
  const Typed = TYPED_ARRAY[ref.dtype];
  if (numel === 0) return { dtype: ref.dtype, shape, data: new Typed(0) };
  if (isRowMajor(ref.shape, ref.stride)) {
    return { dtype: ref.dtype, shape, data: new Typed(storage.buffer, storage.byteOffset + ref.offset * item, numel) };
  }
  const data = new Typed(numel);
  gatherStrided(new Typed(storage.buffer, storage.byteOffset, storageItems), data, ref.shape, ref.stride, ref.offset);
  return { dtype: ref.dtype, shape, data };
}

/** Every place in an unpickled object graph that holds a TensorRef, in the order met. */
interface TensorSlot {
  ref: TensorRef;
  fill(tensor: Tensor): void;
}

function findTensorSlots(root: unknown): TensorSlot[] {
  const slots: TensorSlot[] = [];
  const seen = new Set<object>();
  const pending: unknown[] = [root];
  const visit = (value: unknown, fill: (t: Tensor) => void): void => {
    if (value instanceof TensorRef) slots.push({ ref: value, fill });
    else if (typeof value === 'object' && value !== null && !seen.has(value)) pending.push(value);
  };
  // Iterative, with a seen-set: pickles may nest deeply or refer to themselves.
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== 'object' || node === null || seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      node.forEach((v, i) => visit(v, (t) => (node[i] = t)));
    } else if (node instanceof Map) {
      for (const [k, v] of node) visit(v, (t) => node.set(k, t));
    } else if (node instanceof Set) {
      for (const v of node) {
        visit(v, (t) => {
          node.delete(v);
          node.add(t);
        });
      }
    } else if (node instanceof PickledObject) {
      const obj = node;
      obj.args.forEach((v, i) => visit(v, (t) => (obj.args[i] = t)));
      visit(obj.state, (t) => (obj.state = t));
      if (obj.dictItems) pending.push(obj.dictItems);
      if (obj.listItems) pending.push(obj.listItems);
    }
  }
  return slots;
}

/**
 * How many bytes strided copies may add beyond their storages' own size. A view only grows
 * past its storage when it repeats elements (stride 0, overlaps): an expanded tensor, rare in
 * checkpoints, and the way a tiny hostile file could ask for gigabytes.
 */
const EXPANSION_BUDGET = 256 * 1024 * 1024;

function checkExpansion(slots: TensorSlot[]): void {
  let excess = 0;
  for (const ref of new Set(slots.map((s) => s.ref))) {
    if (isRowMajor(ref.shape, ref.stride) && ref.dtype !== 'bfloat16') continue; // a view: no new memory
    excess += Math.max(0, ref.numel * ITEM_SIZE[ref.dtype] - ref.storage.byteLength);
    if (excess > EXPANSION_BUDGET) {
      throw checkpointError(
        CheckpointError.UNSUPPORTED,
        `tensor [${ref.shape.join(', ')}] (stride [${ref.stride.join(', ')}]) repeats the ${ref.storage.numel} elements of storage ${ref.storage.key}; expanded views this large are not materialized`,
      );
    }
  }
}

/**
 * Replaces every TensorRef in `root` (in place) by a Tensor, reading each storage once and
 * letting it go as soon as the last tensor on it is built.
 */
export async function materializeTensors(root: unknown, source: StorageSource): Promise<unknown> {
  if (root instanceof TensorRef) {
    checkExpansion([{ ref: root, fill: () => undefined }]);
    return tensorFromStorage(root, await source.read(root.storage));
  }
  const slots = findTensorSlots(root);
  checkExpansion(slots);
  const usesLeft = new Map<string, number>();
  const storageId = (s: StorageRef): string => `${s.key}@${s.byteOffset}+${s.numel}`;
  for (const { ref } of slots) usesLeft.set(storageId(ref.storage), (usesLeft.get(storageId(ref.storage)) ?? 0) + 1);
  const loaded = new Map<string, Buffer>();
  const built = new Map<TensorRef, Tensor>();
  for (const { ref, fill } of slots) {
    let tensor = built.get(ref);
    if (tensor === undefined) {
      const id = storageId(ref.storage);
      let bytes = loaded.get(id);
      if (bytes === undefined) {
        bytes = await source.read(ref.storage);
        loaded.set(id, bytes);
      }
      tensor = tensorFromStorage(ref, bytes);
      built.set(ref, tensor);
    }
    const id = storageId(ref.storage);
    const left = (usesLeft.get(id) ?? 1) - 1;
    usesLeft.set(id, left);
    if (left === 0) loaded.delete(id);
    fill(tensor);
  }
  return root;
}
