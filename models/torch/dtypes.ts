import type { DType, TensorData } from '../tensor.ts';

/** Element types as stored in a checkpoint. bfloat16 has no DType: it is widened to float32 on read. */
export type StoredDType = DType | 'bfloat16';

export const ITEM_SIZE: Record<StoredDType, number> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** `torch.<Name>Storage` (and `torch.cuda.<Name>Storage`) class names -> element type. */
export const STORAGE_CLASS_DTYPE: Readonly<Record<string, StoredDType>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  // Raw bytes; the tensor's dtype (from _rebuild_tensor_v3) says how to read them.
  UntypedStorage: 'uint8',
};

export const DTYPE_STORAGE_CLASS: Record<DType, string> = {
  float16: 'HalfStorage',
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

/** `torch.<name>` dtype objects, as `_rebuild_tensor_v3` receives them. */
export const TORCH_DTYPE_NAMES: Readonly<Record<string, StoredDType>> = {
  float32: 'float32',
  float: 'float32',
  float64: 'float64',
  double: 'float64',
  float16: 'float16',
  half: 'float16',
  bfloat16: 'bfloat16',
  int64: 'int64',
  long: 'int64',
  int32: 'int32',
  int: 'int32',
  int16: 'int16',
  short: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

type TypedArrayConstructor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  new (length: number): TensorData;
};

export const TYPED_ARRAY: Record<DType, TypedArrayConstructor> = {
  float16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};
