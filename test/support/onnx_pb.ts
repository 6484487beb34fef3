// A tiny, test-only decoder of the ONNX protobuf messages the backend node tests use: ModelProto
// (the opset, the graph's nodes, attributes, initializers, input and output names) and TensorProto
// (input_N.pb / output_N.pb). Written from the field numbers in onnx.proto; it reads the wire format
// directly and knows nothing else, so the op library is checked against ONNX's expected outputs
// independently of the real importer (compiler/readers/onnx/).

import type { DType, TypedData } from '../../compiler/ir.ts';

class Wire {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.length,
  ) {}
  varint(): bigint {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  }
  /** Every (field, wire type, value) of the message, in order. */
  *fields(): Generator<{ field: number; wire: number; v: bigint | Uint8Array }> {
    while (this.pos < this.end) {
      const tag = Number(this.varint());
      const field = tag >>> 3;
      const wire = tag & 7;
      if (wire === 0) yield { field, wire, v: this.varint() };
      else if (wire === 1) {
        yield { field, wire, v: this.buf.slice(this.pos, this.pos + 8) };
        this.pos += 8;
      } else if (wire === 5) {
        yield { field, wire, v: this.buf.slice(this.pos, this.pos + 4) };
        this.pos += 4;
      } else if (wire === 2) {
        const len = Number(this.varint());
        yield { field, wire, v: this.buf.subarray(this.pos, this.pos + len) };
        this.pos += len;
      } else throw new Error(`protobuf wire type ${wire} not supported`);
    }
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Varints of a packed (length-delimited) or single field. */
function varints(f: { wire: number; v: bigint | Uint8Array }): bigint[] {
  if (f.wire === 0) return [f.v as bigint];
  const w = new Wire(f.v as Uint8Array);
  const out: bigint[] = [];
  while (w.pos < w.end) out.push(w.varint());
  return out;
}

function floats(f: { wire: number; v: bigint | Uint8Array }): number[] {
  const b = f.v as Uint8Array;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.byteLength / 4 }, (_, i) => dv.getFloat32(i * 4, true));
}

const asInt64 = (v: bigint) => BigInt.asIntN(64, v);

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** ONNX TensorProto.DataType */
  dataType: number;
  /** Decoded values, or undefined for a data type tritc does not have. */
  dtype?: DType;
  data?: TypedData;
}

const DTYPES: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool' };

export function decodeTensor(buf: Uint8Array): OnnxTensor {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  const fl: number[] = [];
  const i32: bigint[] = [];
  const i64: bigint[] = [];
  for (const f of new Wire(buf).fields()) {
    if (f.field === 1) dims.push(...varints(f).map((v) => Number(asInt64(v))));
    else if (f.field === 2) dataType = Number(f.v);
    else if (f.field === 4) fl.push(...floats(f));
    else if (f.field === 5) i32.push(...varints(f));
    else if (f.field === 7) i64.push(...varints(f));
    else if (f.field === 8) name = text(f.v as Uint8Array);
    else if (f.field === 9) raw = (f.v as Uint8Array).slice();
  }
  const dtype = DTYPES[dataType];
  const n = dims.reduce((a, b) => a * b, 1);
  if (!dtype) return { name, dims, dataType };
  let data: TypedData;
  if (raw) {
    const ab = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    data = {
      float32: () => new Float32Array(ab),
      int8: () => new Int8Array(ab),
      uint8: () => new Uint8Array(ab),
      int32: () => new Int32Array(ab),
      int64: () => new BigInt64Array(ab),
      bool: () => new Uint8Array(ab),
    }[dtype as 'float32']();
  } else if (dtype === 'float32') data = Float32Array.from(fl);
  else if (dtype === 'int64') data = BigInt64Array.from(i64.map(asInt64));
  else {
    const vals = i32.map((v) => Number(BigInt.asIntN(32, v)));
    data = dtype === 'int8' ? Int8Array.from(vals) : dtype === 'int32' ? Int32Array.from(vals) : Uint8Array.from(vals);
  }
  if (data.length !== n) throw new Error(`tensor "${name}": ${data.length} values for dims [${dims}]`);
  return { name, dims, dataType, dtype, data };
}

export type OnnxAttr = number | string | number[] | string[] | OnnxTensor;

interface OnnxNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, OnnxAttr>;
}

export interface OnnxModel {
  opset: number;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: string[];
  outputs: string[];
}

function decodeAttr(buf: Uint8Array): [string, OnnxAttr] {
  let name = '';
  let type = 0;
  let f = 0;
  let i = 0n;
  let s = '';
  let t: OnnxTensor | undefined;
  const fs: number[] = [];
  const is: bigint[] = [];
  const ss: string[] = [];
  for (const x of new Wire(buf).fields()) {
    if (x.field === 1) name = text(x.v as Uint8Array);
    else if (x.field === 2) f = new DataView((x.v as Uint8Array).buffer).getFloat32(0, true);
    else if (x.field === 3) i = asInt64(x.v as bigint);
    else if (x.field === 4) s = text(x.v as Uint8Array);
    else if (x.field === 5) t = decodeTensor(x.v as Uint8Array);
    else if (x.field === 7) fs.push(...(x.wire === 5 ? floats(x) : floats(x)));
    else if (x.field === 8) is.push(...varints(x).map(asInt64));
    else if (x.field === 9) ss.push(text(x.v as Uint8Array));
    else if (x.field === 20) type = Number(x.v);
  }
  // AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7, STRINGS 8
  const value: OnnxAttr = { 1: f, 2: Number(i), 3: s, 4: t!, 6: fs, 7: is.map(Number), 8: ss }[type] ?? Number(i);
  return [name, value];
}

export function decodeModel(buf: Uint8Array): OnnxModel {
  const model: OnnxModel = { opset: 0, nodes: [], initializers: [], inputs: [], outputs: [] };
  for (const f of new Wire(buf).fields()) {
    if (f.field === 8) {
      let domain = '';
      let version = 0;
      for (const o of new Wire(f.v as Uint8Array).fields()) {
        if (o.field === 1) domain = text(o.v as Uint8Array);
        if (o.field === 2) version = Number(o.v);
      }
      if (domain === '' || domain === 'ai.onnx') model.opset = version;
    }
    if (f.field !== 7) continue;
    for (const gf of new Wire(f.v as Uint8Array).fields()) {
      const b = gf.v as Uint8Array;
      if (gf.field === 1) {
        const node: OnnxNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], attrs: {} };
        for (const nf of new Wire(b).fields()) {
          const nb = nf.v as Uint8Array;
          if (nf.field === 1) node.inputs.push(text(nb));
          else if (nf.field === 2) node.outputs.push(text(nb));
          else if (nf.field === 3) node.name = text(nb);
          else if (nf.field === 4) node.opType = text(nb);
          else if (nf.field === 7) node.domain = text(nb);
          else if (nf.field === 5) {
            const [k, v] = decodeAttr(nb);
            node.attrs[k] = v;
          }
        }
        model.nodes.push(node);
      } else if (gf.field === 5) model.initializers.push(decodeTensor(b));
      else if (gf.field === 11 || gf.field === 12) {
        let name = '';
        for (const vf of new Wire(b).fields()) if (vf.field === 1) name = text(vf.v as Uint8Array);
        (gf.field === 11 ? model.inputs : model.outputs).push(name);
      }
    }
  }
  return model;
}
