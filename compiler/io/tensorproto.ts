// ONNX TensorProto files (the `input_0.pb` / `output_0.pb` of an ONNX test data set) as the NumPy
// arrays the rest of the harness reads: one serialized TensorProto per file, its dims the shape.
// Decoding and checking are the ONNX reader's (readers/onnx/decode.ts, tensor.ts).

import { DTYPE_INFO } from '../dtypes.ts';
import type { DType, TypedData } from '../ir.ts';
import { decodeTensorProto } from '../readers/onnx/decode.ts';
import { tensorValues } from '../readers/onnx/tensor.ts';
import { encodeTensorProto } from '../readers/onnx/write.ts';
import type { NdArray } from './ndarray.ts';

/** A TensorProto file's array and the name it carries (ONNX test sets name the graph's input). */
export function readTensorProto(bytes: Uint8Array, label: string): { name: string; array: NdArray } {
  const t = decodeTensorProto(bytes, label);
  const { dtype, shape, data } = tensorValues(t, label);
  return { name: t.name, array: { dtype: DTYPE_INFO[dtype].numpy, shape, data } };
}

/** One tensor as a serialized TensorProto (raw_data, little-endian), named `name`. */
export function writeTensorProto(name: string, dtype: DType, shape: readonly number[], data: TypedData): Uint8Array {
  return encodeTensorProto({ name, dtype, shape: [...shape], data });
}
