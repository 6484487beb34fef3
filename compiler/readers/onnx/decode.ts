// ONNX protobuf bytes -> plain, checked TypeScript records (OnnxModel, OnnxGraph, OnnxNode, ...).
//
// protobufjs does the wire-format decoding from the descriptor in schema.ts. Everything it returns is
// then checked field by field here, so that the importer only ever sees well-typed values: any byte
// string either decodes into these records or fails with a TritcError (code 'onnx') naming the file
// and, where it can, the tensor, node or attribute. Nothing here interprets op semantics.

import protobuf from 'protobufjs';
import { TritcError, fail } from '../../diagnostics.ts';
import { ATTR_TYPE, ModelProtoType, ONNX_DTYPE, TensorProtoType, onnxDtypeName } from './schema.ts';

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** Opset version per domain ('' is the default ONNX domain, 'ai.onnx' is folded into it). */
  opsets: Map<string, number>;
  graph: OnnxGraph;
  /** Model-local functions (FunctionProto), which the importer inlines (functions.ts). */
  functions: OnnxFunction[];
}

export interface OnnxFunction {
  name: string;
  domain: string;
  overload: string;
  inputs: string[];
  outputs: string[];
  /** Attributes the body may refer to, and the defaults some of them have. */
  attributes: string[];
  defaults: Map<string, OnnxAttribute>;
  nodes: OnnxNode[];
  opsets: Map<string, number>;
}

interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
  sparseInitializers: number;
}

export interface OnnxNode {
  /** Position in the file's node list (for messages when the node has no name). */
  index: number;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
  /** Which of several functions of the same name a call means (NodeProto.overload). */
  overload?: string;
  /** The default-domain opset of a node inlined from a function that imports another one. */
  opset?: number;
}

export type OnnxAttribute =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: bigint }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: OnnxTensor }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: bigint[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensors'; value: OnnxTensor[] }
  /** An attribute of a function body that refers to an attribute of the call (ref_attr_name). */
  | { kind: 'ref'; ref: string }
  | { kind: 'graph' | 'graphs' | 'sparse_tensor' | 'sparse_tensors' | 'type_proto' | 'type_protos' };

/** Where a tensor's values are, before conversion (tensor.ts turns this into typed data). */
type OnnxTensorData =
  | { kind: 'raw'; bytes: Uint8Array }
  | { kind: 'float'; values: number[] }
  | { kind: 'int32'; values: number[] }
  | { kind: 'int64'; values: bigint[] }
  | { kind: 'double'; values: number[] }
  | { kind: 'uint64'; values: bigint[] }
  | { kind: 'string'; count: number }
  | { kind: 'external'; location: string }
  | { kind: 'none' };

export interface OnnxTensor {
  name: string;
  /** TensorProto.DataType code. */
  dtype: number;
  dims: number[];
  data: OnnxTensorData;
  /** A segment of a larger tensor (not supported). */
  segmented: boolean;
}

interface OnnxValueInfo {
  name: string;
  /** TensorProto.DataType code of a tensor type; undefined when no tensor type is given. */
  elemType?: number;
  /** Dimensions: a number, a symbolic name, or undefined when unknown. undefined shape = unranked. */
  shape?: (number | string | undefined)[];
  /** A non-tensor type (sequence, map, optional, sparse tensor). */
  otherType?: string;
}

/** What protobufjs gives back: a message object with known fields, loosely typed. */
type Msg = Record<string, unknown>;

/** int64 values arrive as `Long` objects (protobufjs with the `long` package) or plain numbers. */
function toBigInt(v: unknown, unsigned = false): bigint {
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string') return BigInt(v);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high } = v as { low: number; high: number };
    const u = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
    return unsigned ? BigInt.asUintN(64, u) : BigInt.asIntN(64, u);
  }
  return 0n;
}

/** A bigint as a JS number, clamped to the safe integer range (enough for every use in the IR). */
export function clampToNumber(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(v);
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const bytes = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : new Uint8Array(0));
const utf8 = new TextDecoder('utf-8', { fatal: false });
const has = (m: Msg, k: string): boolean => Object.prototype.hasOwnProperty.call(m, k);

/** Decode a protobufjs message type, turning any wire-format problem into a TritcError. */
function decodeWith(type: protobuf.Type, data: Uint8Array, label: string, what: string): Msg {
  try {
    return type.decode(data) as unknown as Msg;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    fail('onnx', label, `is not a valid ${what} (the protobuf does not decode: ${why}); is it truncated or not an ONNX file?`);
  }
}

/** Decode and check a serialized ModelProto. */
export function decodeModel(data: Uint8Array, label: string): OnnxModel {
  if (data.length === 0) fail('onnx', label, 'is empty, not an ONNX model');
  const m = decodeWith(ModelProtoType, data, label, 'ONNX model');
  const errors = new TritcCollector(label);
  const irVersion = Number(toBigInt(m.ir_version));
  const opsets = decodeOpsets(m.opset_import, 'opset_import', errors);
  if (!has(m, 'graph') || !m.graph) fail('onnx', label, 'has no graph (ModelProto.graph is missing): not an ONNX model, or an empty one');
  const graph = decodeGraph(m.graph as Msg, errors);
  errors.throwIfAny();
  return {
    irVersion,
    producerName: str(m.producer_name),
    producerVersion: str(m.producer_version),
    opsets,
    graph,
    functions: (arr(m.functions) as Msg[]).map((fn, i) => decodeFunction(fn, i, errors)),
  };
}

function decodeOpsets(list: unknown, where: string, errors: TritcCollector): Map<string, number> {
  const opsets = new Map<string, number>();
  for (const o of arr(list) as Msg[]) {
    let domain = str(o.domain);
    if (domain === 'ai.onnx') domain = '';
    const v = toBigInt(o.version);
    if (v < 1n || v > 1000n) errors.add(`${where}: domain "${domain || 'ai.onnx'}" has version ${v}, expected a positive version`);
    else opsets.set(domain, Number(v));
  }
  return opsets;
}

function decodeFunction(fn: Msg, i: number, errors: TritcCollector): OnnxFunction {
  const name = str(fn.name);
  const where = `function[${i}]${name ? ` "${name}"` : ''}`;
  if (!name) errors.add(`${where}: has no name`);
  const defaults = new Map<string, OnnxAttribute>();
  for (const a of arr(fn.attribute_proto) as Msg[])
    if (str(a.name)) defaults.set(str(a.name), decodeAttribute(a, `${where}: attribute "${str(a.name)}"`, errors));
  return {
    name,
    domain: str(fn.domain) === 'ai.onnx' ? '' : str(fn.domain),
    overload: str(fn.overload),
    inputs: arr(fn.input).map(str),
    outputs: arr(fn.output).map(str),
    attributes: [...arr(fn.attribute).map(str), ...defaults.keys()],
    defaults,
    nodes: (arr(fn.node) as Msg[]).map((n, k) => decodeNode(n, k, errors)),
    opsets: decodeOpsets(fn.opset_import, `${where}: opset_import`, errors),
  };
}

/** Decode a serialized TensorProto (the backend tests' input_*.pb / output_*.pb files). */
export function decodeTensorProto(data: Uint8Array, label: string): OnnxTensor {
  const m = decodeWith(TensorProtoType, data, label, 'ONNX TensorProto');
  const errors = new TritcCollector(label);
  const t = decodeTensor(m, 'tensor', errors);
  errors.throwIfAny();
  return t;
}

/** Collects problems found while checking the decoded records, and throws them together. */
class TritcCollector {
  readonly items: string[] = [];
  constructor(readonly label: string) {}
  add(message: string): void {
    if (this.items.length < 50) this.items.push(message);
  }
  throwIfAny(): void {
    if (this.items.length) throw new TritcError(this.items.map((message) => ({ code: 'onnx' as const, where: this.label, message })));
  }
}

function decodeGraph(g: Msg, errors: TritcCollector): OnnxGraph {
  const nodes = (arr(g.node) as Msg[]).map((n, i) => decodeNode(n, i, errors));
  const initializers = (arr(g.initializer) as Msg[]).map((t, i) => decodeTensor(t, `initializer[${i}]`, errors));
  return {
    name: str(g.name),
    nodes,
    initializers,
    inputs: (arr(g.input) as Msg[]).map(decodeValueInfo),
    outputs: (arr(g.output) as Msg[]).map(decodeValueInfo),
    valueInfo: (arr(g.value_info) as Msg[]).map(decodeValueInfo),
    sparseInitializers: arr(g.sparse_initializer).length,
  };
}

function decodeValueInfo(v: Msg): OnnxValueInfo {
  const name = str(v.name);
  const type = v.type as Msg | undefined;
  if (!type || typeof type !== 'object') return { name };
  const tt = has(type, 'tensor_type') ? (type.tensor_type as Msg | null) : undefined;
  if (!tt) {
    const other = ['sequence_type', 'map_type', 'optional_type', 'sparse_tensor_type'].find((k) => has(type, k));
    return other ? { name, otherType: other.replace('_type', '') } : { name };
  }
  const info: OnnxValueInfo = { name, elemType: Number(tt.elem_type ?? 0) };
  if (has(tt, 'shape') && tt.shape) {
    info.shape = (arr((tt.shape as Msg).dim) as Msg[]).map((d) => {
      if (has(d, 'dim_value')) {
        const v = toBigInt(d.dim_value);
        return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
      }
      if (has(d, 'dim_param') && str(d.dim_param)) return str(d.dim_param);
      return undefined;
    });
  }
  return info;
}

function decodeNode(n: Msg, index: number, errors: TritcCollector): OnnxNode {
  const name = str(n.name);
  const opType = str(n.op_type);
  const where = `node[${index}]${name ? ` "${name}"` : ''}${opType ? ` (${opType})` : ''}`;
  if (!opType) errors.add(`${where}: has no op_type`);
  const attributes = new Map<string, OnnxAttribute>();
  (arr(n.attribute) as Msg[]).forEach((a, j) => {
    const aname = str(a.name);
    if (!aname) {
      errors.add(`${where}: attribute[${j}] has no name`);
      return;
    }
    if (attributes.has(aname)) errors.add(`${where}: attribute "${aname}" is given twice`);
    attributes.set(aname, decodeAttribute(a, `${where}: attribute "${aname}"`, errors));
  });
  return {
    index,
    name,
    opType,
    domain: str(n.domain) === 'ai.onnx' ? '' : str(n.domain),
    inputs: arr(n.input).map(str),
    outputs: arr(n.output).map(str),
    attributes,
    ...(str(n.overload) ? { overload: str(n.overload) } : {}),
  };
}

function decodeAttribute(a: Msg, where: string, errors: TritcCollector): OnnxAttribute {
  if (str(a.ref_attr_name)) return { kind: 'ref', ref: str(a.ref_attr_name) };
  let type = Number(a.type ?? 0);
  if (type === ATTR_TYPE.UNDEFINED) {
    // Very old writers leave `type` out: infer it from the field that is set.
    const byField: [string, number][] = [
      ['f', ATTR_TYPE.FLOAT],
      ['i', ATTR_TYPE.INT],
      ['s', ATTR_TYPE.STRING],
      ['t', ATTR_TYPE.TENSOR],
      ['g', ATTR_TYPE.GRAPH],
      ['floats', ATTR_TYPE.FLOATS],
      ['ints', ATTR_TYPE.INTS],
      ['strings', ATTR_TYPE.STRINGS],
      ['tensors', ATTR_TYPE.TENSORS],
      ['graphs', ATTR_TYPE.GRAPHS],
    ];
    const found = byField.find(([k]) => has(a, k) && (!Array.isArray(a[k]) || (a[k] as unknown[]).length > 0));
    type = found ? found[1] : ATTR_TYPE.UNDEFINED;
  }
  switch (type) {
    case ATTR_TYPE.FLOAT:
      return { kind: 'float', value: Math.fround(Number(a.f ?? 0)) };
    case ATTR_TYPE.INT:
      return { kind: 'int', value: toBigInt(a.i) };
    case ATTR_TYPE.STRING:
      return { kind: 'string', value: utf8.decode(bytes(a.s)) };
    case ATTR_TYPE.TENSOR:
      if (!a.t) {
        errors.add(`${where}: is a tensor attribute without a tensor`);
        return { kind: 'ints', value: [] };
      }
      return { kind: 'tensor', value: decodeTensor(a.t as Msg, where, errors) };
    case ATTR_TYPE.FLOATS:
      return { kind: 'floats', value: arr(a.floats).map((x) => Math.fround(Number(x))) };
    case ATTR_TYPE.INTS:
      return { kind: 'ints', value: arr(a.ints).map((x) => toBigInt(x)) };
    case ATTR_TYPE.STRINGS:
      return { kind: 'strings', value: arr(a.strings).map((s) => utf8.decode(bytes(s))) };
    case ATTR_TYPE.TENSORS:
      return { kind: 'tensors', value: (arr(a.tensors) as Msg[]).map((t, i) => decodeTensor(t, `${where}[${i}]`, errors)) };
    case ATTR_TYPE.GRAPH:
      return { kind: 'graph' };
    case ATTR_TYPE.GRAPHS:
      return { kind: 'graphs' };
    case ATTR_TYPE.SPARSE_TENSOR:
      return { kind: 'sparse_tensor' };
    case ATTR_TYPE.SPARSE_TENSORS:
      return { kind: 'sparse_tensors' };
    case ATTR_TYPE.TYPE_PROTO:
      return { kind: 'type_proto' };
    case ATTR_TYPE.TYPE_PROTOS:
      return { kind: 'type_protos' };
    default:
      errors.add(`${where}: unknown attribute type ${type}`);
      return { kind: 'ints', value: [] };
  }
}

const MAX_DIM = BigInt(2 ** 31 - 1);

function decodeTensor(t: Msg, where: string, errors: TritcCollector): OnnxTensor {
  const name = str(t.name);
  const label = name ? `tensor "${name}"` : where;
  const dtype = Number(t.data_type ?? 0);
  const dims: number[] = [];
  for (const d of arr(t.dims)) {
    const v = toBigInt(d);
    if (v < 0n || v > MAX_DIM) {
      errors.add(`${label}: dimension ${v} is not between 0 and 2^31 - 1`);
      dims.push(0);
    } else dims.push(Number(v));
  }
  let data: OnnxTensorData = { kind: 'none' };
  if (Number(t.data_location ?? 0) === 1) {
    const loc = (arr(t.external_data) as Msg[]).find((e) => str(e.key) === 'location');
    data = { kind: 'external', location: loc ? str(loc.value) : '' };
  } else if (has(t, 'raw_data')) data = { kind: 'raw', bytes: bytes(t.raw_data) };
  else if (arr(t.float_data).length) data = { kind: 'float', values: arr(t.float_data).map(Number) };
  else if (arr(t.int32_data).length) data = { kind: 'int32', values: arr(t.int32_data).map(Number) };
  else if (arr(t.int64_data).length) data = { kind: 'int64', values: arr(t.int64_data).map((x) => toBigInt(x)) };
  else if (arr(t.double_data).length) data = { kind: 'double', values: arr(t.double_data).map(Number) };
  else if (arr(t.uint64_data).length) data = { kind: 'uint64', values: arr(t.uint64_data).map((x) => toBigInt(x, true)) };
  else if (arr(t.string_data).length) data = { kind: 'string', count: arr(t.string_data).length };
  if (!DTYPE_KNOWN.has(dtype)) errors.add(`${label}: unknown data type ${dtype}`);
  return { name, dtype, dims, data, segmented: has(t, 'segment') };
}

const DTYPE_KNOWN = new Set<number>(Object.values(ONNX_DTYPE).filter((v) => v !== ONNX_DTYPE.UNDEFINED));

{
  onnxDtypeName;
}
