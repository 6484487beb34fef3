// A small ONNX writer: model descriptions -> serialized ModelProto / TensorProto bytes.
//
// Tests build models with it for the importer and for onnxruntime (the oracle in
// test/onnx-oracle.test.ts); `tritc test --update` writes golden outputs as TensorProto files where
// the goldens are ONNX test data sets (io/tensorproto.ts). Encoding uses the same descriptor as the
// reader (schema.ts).

import { DTYPE_INFO } from '../../dtypes.ts';
import type { DType, TypedData } from '../../ir.ts';
import { ATTR_TYPE, ModelProtoType, ONNX_DTYPE, TensorProtoType } from './schema.ts';
import { onnxTypeOf } from './tensor.ts';

export type AttrSpecValue =
  | number // int (if integral and not marked float) - use { f } for floats
  | { f: number }
  | { floats: number[] }
  | string
  | number[] // ints
  | { strings: string[] }
  | { tensor: TensorSpec }
  /** In a function body: the call's attribute of this name (ref_attr_name), of type `type`. */
  | { ref: string; type: 'int' | 'float' | 'ints' | 'string' };

export interface TensorSpec {
  name?: string;
  /** An IR dtype, or an ONNX TensorProto.DataType code (for types tritc does not support). */
  dtype: DType | number;
  shape: number[];
  data: TypedData | number[];
  /** Store values in the typed field (float_data, int32_data, ...) instead of raw_data. */
  typed?: boolean;
}

export interface NodeSpec {
  op: string;
  domain?: string;
  name?: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrSpecValue>;
}

interface ValueSpec {
  name: string;
  dtype: DType | number;
  /** Dimensions; a string is a symbolic dimension. */
  shape: (number | string)[];
}

export interface ModelSpecOnnx {
  opset: number;
  /** Extra opset imports (domain -> version). */
  opsets?: Record<string, number>;
  irVersion?: number;
  name?: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: (TensorSpec & { name: string })[];
  nodes: NodeSpec[];
  valueInfo?: ValueSpec[];
  /** Model-local functions (FunctionProto). */
  functions?: FunctionSpec[];
}

export interface FunctionSpec {
  name: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Attribute names the body refers to; `defaults` gives some of them values (attribute_proto). */
  attributes?: string[];
  defaults?: Record<string, AttrSpecValue>;
  nodes: NodeSpec[];
  /** Opset imports of the body (domain -> version); the default domain at the model's opset if absent. */
  opsets?: Record<string, number>;
}

function rawBytes(dtype: DType, data: TypedData | number[]): Uint8Array {
  const info = DTYPE_INFO[dtype];
  const typed = Array.isArray(data) ? info.alloc(data.length) : data;
  if (Array.isArray(data)) data.forEach((v, i) => ((typed as unknown as (number | bigint)[])[i] = typed instanceof BigInt64Array ? BigInt(v) : v));
  const out = new Uint8Array(typed.length * info.bytes);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < typed.length; i++) {
    const v = typed[i]!;
    switch (dtype) {
      case 'float32':
        dv.setFloat32(i * 4, Number(v), true);
        break;
      case 'int32':
        dv.setInt32(i * 4, Number(v), true);
        break;
      case 'int64':
        dv.setBigInt64(i * 8, BigInt(v), true);
        break;
      case 'int8':
        dv.setInt8(i, Number(v));
        break;
      default:
        dv.setUint8(i, Number(v));
    }
  }
  return out;
}

const code = (d: DType | number): number => (typeof d === 'number' ? d : onnxTypeOf(d));

function tensorObject(t: TensorSpec): Record<string, unknown> {
  const o: Record<string, unknown> = { name: t.name ?? '', dims: t.shape, data_type: code(t.dtype) };
  if (typeof t.dtype === 'number') o.raw_data = t.data instanceof Uint8Array ? t.data : new Uint8Array(0);
  else if (!t.typed) o.raw_data = rawBytes(t.dtype, t.data);
  else {
    const vals = Array.from(t.data as ArrayLike<number | bigint>);
    if (t.dtype === 'float32') o.float_data = vals.map(Number);
    else if (t.dtype === 'int64') o.int64_data = vals.map((v) => String(v));
    else o.int32_data = vals.map(Number);
  }
  return o;
}

function valueObject(v: ValueSpec): Record<string, unknown> {
  return {
    name: v.name,
    type: { tensor_type: { elem_type: code(v.dtype), shape: { dim: v.shape.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
  };
}

function attrObject(name: string, v: AttrSpecValue): Record<string, unknown> {
  if (typeof v === 'number') return { name, type: ATTR_TYPE.INT, i: v };
  if (typeof v === 'string') return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: ATTR_TYPE.INTS, ints: v };
  if ('f' in v) return { name, type: ATTR_TYPE.FLOAT, f: v.f };
  if ('floats' in v) return { name, type: ATTR_TYPE.FLOATS, floats: v.floats };
  if ('strings' in v) return { name, type: ATTR_TYPE.STRINGS, strings: v.strings.map((x) => new TextEncoder().encode(x)) };
  if ('ref' in v)
    return { name, ref_attr_name: v.ref, type: { int: ATTR_TYPE.INT, float: ATTR_TYPE.FLOAT, ints: ATTR_TYPE.INTS, string: ATTR_TYPE.STRING }[v.type] };
  return { name, type: ATTR_TYPE.TENSOR, t: tensorObject(v.tensor) };
}

const nodeObject = (n: NodeSpec, i: number): Record<string, unknown> => ({
  name: n.name ?? `${n.op}_${i}`,
  op_type: n.op,
  domain: n.domain ?? '',
  input: n.inputs,
  output: n.outputs,
  attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attrObject(k, v)),
});

const opsetObjects = (o: Record<string, number>) => Object.entries(o).map(([domain, version]) => ({ domain, version }));

/** Serialize a model description to ONNX protobuf bytes. */
export function encodeOnnxModel(m: ModelSpecOnnx): Uint8Array {
  const obj = {
    ir_version: m.irVersion ?? (m.opset >= 21 ? 10 : m.opset >= 19 ? 9 : m.opset >= 15 ? 8 : 7),
    producer_name: 'tritc-test',
    opset_import: [{ domain: '', version: m.opset }, ...Object.entries(m.opsets ?? {}).map(([domain, version]) => ({ domain, version }))],
    graph: {
      name: m.name ?? 'test',
      node: m.nodes.map(nodeObject),
      initializer: (m.initializers ?? []).map(tensorObject),
      input: m.inputs.map(valueObject),
      output: m.outputs.map(valueObject),
      value_info: (m.valueInfo ?? []).map(valueObject),
    },
    functions: (m.functions ?? []).map((f) => ({
      name: f.name,
      domain: f.domain,
      input: f.inputs,
      output: f.outputs,
      attribute: (f.attributes ?? []).filter((a) => !(a in (f.defaults ?? {}))),
      attribute_proto: Object.entries(f.defaults ?? {}).map(([k, v]) => attrObject(k, v)),
      node: f.nodes.map(nodeObject),
      opset_import: opsetObjects(f.opsets ?? { '': m.opset }),
    })),
  };
  return ModelProtoType.encode(ModelProtoType.fromObject(obj)).finish();
}

/** Serialize one tensor (the backend tests' input_*.pb format). */
export function encodeTensorProto(t: TensorSpec): Uint8Array {
  return TensorProtoType.encode(TensorProtoType.fromObject(tensorObject(t))).finish();
}

{
  ONNX_DTYPE;
}
