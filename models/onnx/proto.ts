/**
 * The ONNX protobuf schema (onnx-proto: protobufjs static code generated from onnx.proto).
 * onnx-proto is CommonJS; this is the one place that unwraps it for ESM.
 */
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';

/** TensorProto.DataType.FLOAT */
export const ONNX_FLOAT = 1;

/** TensorProto.DataType.UINT8 */
export const ONNX_UINT8 = 2;

/** TensorProto.DataType.INT32 */
export const ONNX_INT32 = 6;

/** TensorProto.DataType.INT64 */
export const ONNX_INT64 = 7;

/** TensorProto.DataType.FLOAT16 */
export const ONNX_FLOAT16 = 10;
