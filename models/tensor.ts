/** A dense tensor as read from a checkpoint or built for a graph: row-major, contiguous. */
export type DType = 'float16' | 'float32' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export type TensorData = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface Tensor {
  dtype: DType;
  shape: number[];
  /** Contiguous, row-major. float16 is kept as raw Uint16Array bits. */
  data: TensorData;
}

/** A PyTorch state dict: insertion order is the module's parameter order. */
export type StateDict = Map<string, Tensor>;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
