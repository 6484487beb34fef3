// The ONNX protobuf messages tritc reads, as a protobufjs reflection descriptor.
//
// Field numbers and types are facts of the ONNX format (onnx.proto3, IR version 13); the subset below
// is what the importer needs. Messages tritc never interprets (subgraphs of control-flow ops,
// sequence/map/optional types, training info, functions' bodies) are declared as `bytes`, so they
// are skipped without being decoded: a deep or malformed subgraph cannot hurt the reader, and a
// node that needs one is reported as unsupported anyway.
//
// Repeated numeric fields are declared packed, as proto3 encodes them; the decoder accepts both
// the packed and the unpacked encoding (protobuf requires readers to).

import protobuf from 'protobufjs';

type FieldJson = { type: string; id: number; rule?: 'repeated'; options?: { packed: boolean } };
const f = (type: string, id: number): FieldJson => ({ type, id });
const rep = (type: string, id: number): FieldJson => ({ type, id, rule: 'repeated' });
const packed = (type: string, id: number): FieldJson => ({ type, id, rule: 'repeated', options: { packed: true } });

const MESSAGES: Record<string, Record<string, FieldJson>> = {
  ModelProto: {
    ir_version: f('int64', 1),
    producer_name: f('string', 2),
    producer_version: f('string', 3),
    domain: f('string', 4),
    model_version: f('int64', 5),
    doc_string: f('string', 6),
    graph: f('GraphProto', 7),
    opset_import: rep('OperatorSetIdProto', 8),
    metadata_props: rep('StringStringEntryProto', 14),
    training_info: rep('bytes', 20),
    functions: rep('FunctionProto', 25),
  },
  OperatorSetIdProto: {
    domain: f('string', 1),
    version: f('int64', 2),
  },
  StringStringEntryProto: {
    key: f('string', 1),
    value: f('string', 2),
  },
  GraphProto: {
    node: rep('NodeProto', 1),
    name: f('string', 2),
    initializer: rep('TensorProto', 5),
    doc_string: f('string', 10),
    input: rep('ValueInfoProto', 11),
    output: rep('ValueInfoProto', 12),
    value_info: rep('ValueInfoProto', 13),
    sparse_initializer: rep('bytes', 15),
  },
  NodeProto: {
    input: rep('string', 1),
    output: rep('string', 2),
    name: f('string', 3),
    op_type: f('string', 4),
    attribute: rep('AttributeProto', 5),
    doc_string: f('string', 6),
    domain: f('string', 7),
    overload: f('string', 8),
  },
  AttributeProto: {
    name: f('string', 1),
    f: f('float', 2),
    i: f('int64', 3),
    s: f('bytes', 4),
    t: f('TensorProto', 5),
    g: f('bytes', 6), // GraphProto: subgraphs are not interpreted
    floats: packed('float', 7),
    ints: packed('int64', 8),
    strings: rep('bytes', 9),
    tensors: rep('TensorProto', 10),
    graphs: rep('bytes', 11),
    doc_string: f('string', 13),
    tp: f('bytes', 14),
    type_protos: rep('bytes', 15),
    type: f('int32', 20),
    ref_attr_name: f('string', 21),
    sparse_tensor: f('bytes', 22),
    sparse_tensors: rep('bytes', 23),
  },
  TensorProto: {
    dims: packed('int64', 1),
    data_type: f('int32', 2),
    segment: f('bytes', 3),
    float_data: packed('float', 4),
    int32_data: packed('int32', 5),
    string_data: rep('bytes', 6),
    int64_data: packed('int64', 7),
    name: f('string', 8),
    raw_data: f('bytes', 9),
    double_data: packed('double', 10),
    uint64_data: packed('uint64', 11),
    doc_string: f('string', 12),
    external_data: rep('StringStringEntryProto', 13),
    data_location: f('int32', 14),
  },
  ValueInfoProto: {
    name: f('string', 1),
    type: f('TypeProto', 2),
    doc_string: f('string', 3),
  },
  TypeProto: {
    tensor_type: f('TypeProtoTensor', 1),
    sequence_type: f('bytes', 4),
    map_type: f('bytes', 5),
    denotation: f('string', 6),
    sparse_tensor_type: f('bytes', 8),
    optional_type: f('bytes', 9),
  },
  TypeProtoTensor: {
    elem_type: f('int32', 1),
    shape: f('TensorShapeProto', 2),
  },
  TensorShapeProto: {
    dim: rep('Dimension', 1),
  },
  Dimension: {
    dim_value: f('int64', 1),
    dim_param: f('string', 2),
    denotation: f('string', 3),
  },
  FunctionProto: {
    name: f('string', 1),
    input: rep('string', 4),
    output: rep('string', 5),
    attribute: rep('string', 6),
    node: rep('NodeProto', 7),
    opset_import: rep('OperatorSetIdProto', 9),
    domain: f('string', 10),
    attribute_proto: rep('AttributeProto', 11),
    overload: f('string', 13),
  },
};

const root = protobuf.Root.fromJSON({
  nested: { onnx: { nested: Object.fromEntries(Object.entries(MESSAGES).map(([name, fields]) => [name, { fields }])) } },
});

export const ModelProtoType = root.lookupType('onnx.ModelProto');
export const TensorProtoType = root.lookupType('onnx.TensorProto');

/** TensorProto.DataType (onnx.proto3). */
export const ONNX_DTYPE = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
  FLOAT8E8M0: 24,
  UINT2: 25,
  INT2: 26,
} as const;

const DTYPE_NAMES = new Map<number, string>(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k]));

/** The ONNX name of a TensorProto.DataType value (e.g. 1 -> "FLOAT"), or `type <n>` if unknown. */
export function onnxDtypeName(code: number): string {
  return DTYPE_NAMES.get(code) ?? `type ${code}`;
}

/** AttributeProto.AttributeType. */
export const ATTR_TYPE = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;
