// TensorProto -> IR dtype and typed values.
//
// Facts of the format (onnx.proto3, TensorProto): values are in `raw_data` (little-endian, fixed width,
// bool one byte) or in the typed field for the data type: float_data (FLOAT), int32_data (INT32,
// INT16, INT8, UINT16, UINT8, BOOL, FLOAT16/BFLOAT16 bits, ...), int64_data (INT64), double_data
// (DOUBLE), uint64_data (UINT32, UINT64), string_data (STRING). `data_location = EXTERNAL` points to
// another file. tritc supports the IR dtypes of docs/onnx-ops.md; every other data type is an error
// that names the tensor.

import { fail } from '../../diagnostics.ts';
import { elementCount, type DType, type TypedData } from '../../ir.ts';
import { DTYPE_INFO } from '../../dtypes.ts';
import type { OnnxTensor } from './decode.ts';
import { ONNX_DTYPE, onnxDtypeName } from './schema.ts';

/** ONNX data type -> IR dtype, for the types tritc supports. */
const SUPPORTED: ReadonlyMap<number, DType> = new Map<number, DType>([
  [ONNX_DTYPE.FLOAT, 'float32'],
  [ONNX_DTYPE.UINT8, 'uint8'],
  [ONNX_DTYPE.INT8, 'int8'],
  [ONNX_DTYPE.INT32, 'int32'],
  [ONNX_DTYPE.INT64, 'int64'],
  [ONNX_DTYPE.BOOL, 'bool'],
]);

/** The IR dtype of an ONNX data type, or undefined if tritc does not support it. */
export function irDtype(onnxType: number): DType | undefined {
  return SUPPORTED.get(onnxType);
}

/** The ONNX data type of an IR dtype (ternary/binary codes have none). */
export function onnxTypeOf(dtype: DType): number {
  for (const [k, v] of SUPPORTED) if (v === dtype) return k;
  throw new Error(`internal: IR dtype ${dtype} has no ONNX data type`);
}

/** Lower-case ONNX type names as the spec's type constraints write them (tensor(float16), ...). */
export function onnxTypeText(onnxType: number): string {
  const names: Record<number, string> = {
    [ONNX_DTYPE.FLOAT]: 'float32',
    [ONNX_DTYPE.UINT8]: 'uint8',
    [ONNX_DTYPE.INT8]: 'int8',
    [ONNX_DTYPE.UINT16]: 'uint16',
    [ONNX_DTYPE.INT16]: 'int16',
    [ONNX_DTYPE.INT32]: 'int32',
    [ONNX_DTYPE.INT64]: 'int64',
    [ONNX_DTYPE.STRING]: 'string',
    [ONNX_DTYPE.BOOL]: 'bool',
    [ONNX_DTYPE.FLOAT16]: 'float16',
    [ONNX_DTYPE.DOUBLE]: 'double',
    [ONNX_DTYPE.UINT32]: 'uint32',
    [ONNX_DTYPE.UINT64]: 'uint64',
    [ONNX_DTYPE.COMPLEX64]: 'complex64',
    [ONNX_DTYPE.COMPLEX128]: 'complex128',
    [ONNX_DTYPE.BFLOAT16]: 'bfloat16',
    [ONNX_DTYPE.FLOAT8E4M3FN]: 'float8e4m3fn',
    [ONNX_DTYPE.FLOAT8E4M3FNUZ]: 'float8e4m3fnuz',
    [ONNX_DTYPE.FLOAT8E5M2]: 'float8e5m2',
    [ONNX_DTYPE.FLOAT8E5M2FNUZ]: 'float8e5m2fnuz',
    [ONNX_DTYPE.UINT4]: 'uint4',
    [ONNX_DTYPE.INT4]: 'int4',
    [ONNX_DTYPE.FLOAT4E2M1]: 'float4e2m1',
    [ONNX_DTYPE.FLOAT8E8M0]: 'float8e8m0',
    [ONNX_DTYPE.UINT2]: 'uint2',
    [ONNX_DTYPE.INT2]: 'int2',
  };
  return names[onnxType] ?? onnxDtypeName(onnxType);
}

export const SUPPORTED_TYPES_TEXT = 'float32, int8, uint8, int32, int64, bool';

/**
 * The values of a tensor as the IR stores them. `where` names the tensor in messages (e.g.
 * `model.onnx: initializer "fc1.weight"`). Errors: unsupported type, external data, wrong byte count.
 */
export function tensorValues(t: OnnxTensor, where: string): { dtype: DType; shape: number[]; data: TypedData } {
  const dtype = irDtype(t.dtype);
  if (!dtype) fail('dtype', where, `has data type ${onnxTypeText(t.dtype)}, which tritc does not support (supported: ${SUPPORTED_TYPES_TEXT})`);
  if (t.segmented) fail('unsupported', where, 'is stored in segments (TensorProto.segment), which tritc does not support');
  if (t.data.kind === 'external')
    fail(
      'unsupported',
      where,
      `keeps its data in an external file${t.data.location ? ` ("${t.data.location}")` : ''}; tritc reads only self-contained .onnx files (save the model without external data, e.g. onnx.save(model, path, save_as_external_data=False))`,
    );
  const shape = [...t.dims];
  const n = elementCount(shape);
  if (n > 2 ** 31 - 1) fail('limit', where, `has ${n} elements, above the limit of 2^31 - 1`);
  const info = DTYPE_INFO[dtype];
  const out = info.alloc(n);
  const d = t.data;
  const count = (have: number, field: string) => {
    if (have !== n) fail('onnx', where, `has shape [${shape.join(', ')}] (${n} values) but ${field} holds ${have}`);
  };
  switch (d.kind) {
    case 'none':
      count(0, 'no data field');
      break;
    case 'raw': {
      const want = n * info.bytes;
      if (d.bytes.length !== want)
        fail('onnx', where, `has shape [${shape.join(', ')}] of ${onnxTypeText(t.dtype)} (${want} bytes) but raw_data holds ${d.bytes.length} bytes`);
      const dv = new DataView(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength);
      for (let i = 0; i < n; i++) {
        switch (dtype) {
          case 'float32':
            (out as Float32Array)[i] = dv.getFloat32(i * 4, true);
            break;
          case 'int8':
            (out as Int8Array)[i] = dv.getInt8(i);
            break;
          case 'uint8':
            (out as Uint8Array)[i] = dv.getUint8(i);
            break;
          case 'bool':
            (out as Uint8Array)[i] = dv.getUint8(i) ? 1 : 0;
            break;
          case 'int32':
            (out as Int32Array)[i] = dv.getInt32(i * 4, true);
            break;
          case 'int64':
            (out as BigInt64Array)[i] = dv.getBigInt64(i * 8, true);
            break;
          default:
            throw new Error(`internal: raw_data of ${dtype}`);
        }
      }
      break;
    }
    case 'float':
      if (dtype !== 'float32') fail('onnx', where, `is ${onnxTypeText(t.dtype)} but stores its values in float_data`);
      count(d.values.length, 'float_data');
      (out as Float32Array).set(d.values);
      break;
    case 'int32': {
      if (dtype === 'float32' || dtype === 'int64') fail('onnx', where, `is ${onnxTypeText(t.dtype)} but stores its values in int32_data`);
      count(d.values.length, 'int32_data');
      const [lo, hi] = info.range!;
      for (let i = 0; i < n; i++) {
        const v = d.values[i]!;
        if (v < lo || v > hi) fail('onnx', where, `value ${v} at index ${i} is outside the ${onnxTypeText(t.dtype)} range [${lo}, ${hi}]`);
        (out as Int8Array | Uint8Array | Int32Array)[i] = v;
      }
      break;
    }
    case 'int64':
      if (dtype !== 'int64') fail('onnx', where, `is ${onnxTypeText(t.dtype)} but stores its values in int64_data`);
      count(d.values.length, 'int64_data');
      (out as BigInt64Array).set(d.values);
      break;
    default:
      fail('onnx', where, `is ${onnxTypeText(t.dtype)} but stores its values in ${d.kind}_data`);
  }
  return { dtype, shape, data: out };
}
