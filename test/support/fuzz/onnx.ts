// ONNX and QONNX cases: the QONNX TFC MLPs, a spread of the ONNX backend node tests and random QDQ
// graphs (onnx_random.ts), edited at the message level (initializer dims huge, negative or wrong in
// number, data types, truncated raw_data; nodes rewired into cycles, to missing or empty names, given
// another node's output, repeated, retyped; attributes set to edge values; opsets, IR versions, input
// shapes), then at the protobuf level (graph fields swapped, renumbered, repeated, dropped, length
// prefixes corrupted: what the old onnx-fuzz test did) and at the byte level. Read with loadModel, as
// `tritc compile model.onnx` does (the importer, constant folding, low-bit detection, the passes).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadModel } from '../../../compiler/readers/index.ts';
import { encodeOnnxModel } from '../../../compiler/readers/onnx/write.ts';
import { ModelProtoType } from '../../../compiler/readers/onnx/schema.ts';
import { SHARED_DATA } from '../../../examples/data.ts';
import { randomOnnxModel } from '../../../bench/gen/onnx_random.ts';
import { applyByteMutations, byteMutation, describeByteMutation } from './bytes.ts';
import { some, type FuzzCase, type FuzzReader } from './harness.ts';

// ---------------------------------------------------------------------------------------------------
// Seeds

const NODE_TESTS = join(SHARED_DATA, 'onnx_backend_tests', 'node');
const QONNX = ['TFC_2W2A.onnx', 'TFC_1W1A.onnx'];

let nodeTests: string[] | undefined;
const cache = new Map<string, Uint8Array>();

function seedBytes(seed: { qonnx: string } | { nodeTest: number } | { random: number }): { bytes: Uint8Array; name: string } {
  if ('random' in seed) return { bytes: encodeOnnxModel(randomOnnxModel(seed.random).spec), name: `random QDQ graph ${seed.random}` };
  let path: string;
  if ('qonnx' in seed) path = join(SHARED_DATA, 'qonnx', 'models', seed.qonnx);
  else {
    nodeTests ??= readdirSync(NODE_TESTS).sort();
    path = join(NODE_TESTS, nodeTests[seed.nodeTest % nodeTests.length]!, 'model.onnx');
  }
  let b = cache.get(path);
  if (!b) cache.set(path, (b = new Uint8Array(readFileSync(path))));
  return { bytes: b, name: path.slice(SHARED_DATA.length + 1) };
}

// ---------------------------------------------------------------------------------------------------
// Message-level edits (on protobufjs's plain-object form, snake_case, 64-bit integers as strings)

type Obj = Record<string, unknown>;
type Edit =
  | { op: 'dims'; at: number; dims: string[] }
  | { op: 'data-type'; at: number; type: number }
  | { op: 'raw-data'; at: number; keep: number }
  | { op: 'rewire'; at: number; input: number; to: number | string }
  | { op: 'output'; at: number; to: number }
  | { op: 'repeat-node' | 'drop-node' | 'repeat-initializer'; at: number }
  | { op: 'op-type'; at: number; type: string; domain: string }
  | { op: 'attribute'; at: number; attr: number; value: Obj }
  | { op: 'opset'; version: string }
  | { op: 'ir-version'; version: string }
  | { op: 'input-dim'; at: number; dim: Obj };

const DIMS = ['0', '1', '2', '3', '7', '-1', '-2', '2147483647', '2147483648', '1099511627776', '9223372036854775807'];
const OPS = [
  'Relu',
  'Softmax',
  'Transpose',
  'Reshape',
  'Gather',
  'MatMul',
  'Gemm',
  'Conv',
  'Add',
  'Concat',
  'Slice',
  'Squeeze',
  'Quant',
  'BipolarQuant',
  'MultiThreshold',
  'BatchNormalization',
  'QuantizeLinear',
  'Loop',
  'If',
  'Unknown',
];

const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('dims' as const), at: fc.nat(), dims: fc.array(fc.constantFrom(...DIMS), { maxLength: 5 }) }) },
  fc.record({ op: fc.constant('data-type' as const), at: fc.nat(), type: fc.integer({ min: 0, max: 26 }) }),
  fc.record({ op: fc.constant('raw-data' as const), at: fc.nat(), keep: fc.nat() }),
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('rewire' as const), at: fc.nat(), input: fc.nat(), to: fc.oneof(fc.nat(), fc.constantFrom('', 'missing')) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('output' as const), at: fc.nat(), to: fc.nat() }) },
  fc.record({ op: fc.constantFrom('repeat-node' as const, 'drop-node' as const, 'repeat-initializer' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('op-type' as const),
    at: fc.nat(),
    type: fc.constantFrom(...OPS),
    domain: fc.constantFrom('', '', 'qonnx.custom_op.general', 'onnx.brevitas', 'com.microsoft'),
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('attribute' as const),
      at: fc.nat(),
      attr: fc.nat(),
      value: fc.constantFrom<Obj>(
        { i: '0' },
        { i: '-1' },
        { i: '-5' },
        { i: '1000000' },
        { i: '9223372036854775807' },
        { ints: [] },
        { ints: ['-1', '0'] },
        { ints: ['2147483648'] },
        { ints: ['0', '0', '0', '0', '0', '0', '0', '0', '0'] },
        { f: Number.NaN },
        { f: 1e30 },
        { f: -1 },
        { s: new TextEncoder().encode('bogus') },
        { floats: [] },
        { type: 99 },
        { t: { dims: ['1099511627776'], data_type: 1 } },
      ),
    }),
  },
  fc.record({ op: fc.constant('opset' as const), version: fc.constantFrom('1', '6', '7', '9', '11', '13', '17', '21', '25', '26', '1000', '-1') }),
  fc.record({ op: fc.constant('ir-version' as const), version: fc.constantFrom('0', '1', '3', '7', '10', '11', '99') }),
  fc.record({
    op: fc.constant('input-dim' as const),
    at: fc.nat(),
    dim: fc.constantFrom<Obj>({ dim_value: '0' }, { dim_value: '-1' }, { dim_value: '1099511627776' }, { dim_param: 'N' }, {}),
  }),
);

const list = (o: Obj | undefined, k: string): Obj[] => (o && Array.isArray(o[k]) ? (o[k] as Obj[]) : []);
const pick = <T>(xs: T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);

function applyEdit(model: Obj, e: Edit): void {
  const g = model.graph as Obj | undefined;
  const nodes = list(g, 'node');
  const inits = list(g, 'initializer');
  const names = [
    ...inits.map((t) => t.name as string),
    ...nodes.flatMap((n) => (n.output as string[]) ?? []),
    ...list(g, 'input').map((v) => v.name as string),
  ];
  switch (e.op) {
    case 'dims': {
      const t = pick(inits, e.at);
      if (t) t.dims = e.dims;
      return;
    }
    case 'data-type': {
      const t = pick(inits, e.at);
      if (t) t.data_type = e.type;
      return;
    }
    case 'raw-data': {
      const t = pick(inits, e.at);
      if (t && t.raw_data instanceof Uint8Array) t.raw_data = t.raw_data.subarray(0, e.keep % (t.raw_data.length + 1));
      return;
    }
    case 'rewire': {
      const n = pick(nodes, e.at);
      const ins = (n?.input as string[] | undefined) ?? [];
      if (n && ins.length) {
        // A number picks an output of this or a later node (a cycle) or any other name.
        const later = nodes.slice(nodes.indexOf(n)).flatMap((m) => (m.output as string[]) ?? []);
        ins[e.input % ins.length] = typeof e.to === 'string' ? e.to : (pick(e.to % 2 ? later : names, e.to >> 1) ?? '');
      }
      return;
    }
    case 'output': {
      const n = pick(nodes, e.at);
      const outs = (n?.output as string[] | undefined) ?? [];
      if (outs.length) outs[0] = pick(names, e.to) ?? outs[0]!;
      return;
    }
    case 'repeat-node':
    case 'drop-node': {
      const n = pick(nodes, e.at);
      if (n) nodes.splice(nodes.indexOf(n), e.op === 'drop-node' ? 1 : 0, ...(e.op === 'repeat-node' ? [structuredClone(n)] : []));
      return;
    }
    case 'repeat-initializer': {
      const t = pick(inits, e.at);
      if (t) inits.push(structuredClone(t));
      return;
    }
    case 'op-type': {
      const n = pick(nodes, e.at);
      if (n) Object.assign(n, { op_type: e.type, domain: e.domain });
      return;
    }
    case 'attribute': {
      const n = pick(nodes, e.at);
      const a = pick(list(n, 'attribute'), e.attr);
      if (a) {
        for (const k of ['i', 'ints', 'f', 'floats', 's', 't']) delete a[k];
        Object.assign(a, e.value);
      }
      return;
    }
    case 'opset': {
      const o = list(model, 'opset_import').find((x) => !x.domain);
      if (o) o.version = e.version;
      return;
    }
    case 'ir-version':
      model.ir_version = e.version;
      return;
    case 'input-dim': {
      const v = pick(list(g, 'input'), e.at);
      const dims = list(((v?.type as Obj | undefined)?.tensor_type as Obj | undefined)?.shape as Obj | undefined, 'dim');
      if (dims.length) dims[e.at % dims.length] = e.dim;
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Protobuf-level mutations of the graph message's fields

interface PbField {
  start: number;
  body: number;
  end: number;
  field: number;
  wire: number;
}

function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (let i = at; i < b.length && i < at + 10; i++) {
    v += (b[i]! & 0x7f) * mul;
    mul *= 128;
    if (!(b[i]! & 0x80)) return [v, i + 1];
  }
  return [-1, b.length];
}

/** The fields of a well-formed message between start and end (stops at anything odd). */
function pbFields(b: Uint8Array, start: number, end: number): PbField[] {
  const out: PbField[] = [];
  let at = start;
  while (at < end) {
    const [tag, p] = varint(b, at);
    if (tag < 0) break;
    const wire = tag & 7;
    let body = p;
    let e: number;
    if (wire === 0) e = varint(b, p)[1];
    else if (wire === 1) e = p + 8;
    else if (wire === 5) e = p + 4;
    else if (wire === 2) {
      const [len, q] = varint(b, p);
      body = q;
      e = q + len;
    } else break;
    if (e > end) break;
    out.push({ start: at, body, end: e, field: Math.floor(tag / 8), wire });
    at = e;
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function lengthPrefix(n: number): Uint8Array {
  const len: number[] = [];
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return Uint8Array.from(len);
}

type PbMutation = { op: 'swap'; a: number; b: number } | { op: 'renumber'; a: number; to: number } | { op: 'repeat' | 'drop' | 'length'; a: number };

const pbMutation: fc.Arbitrary<PbMutation> = fc.oneof(
  fc.record({ op: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ op: fc.constant('renumber' as const), a: fc.nat(), to: fc.constantFrom(1, 2, 5, 10, 11, 12, 13, 15) }),
  fc.record({ op: fc.constantFrom('repeat' as const, 'drop' as const, 'length' as const), a: fc.nat() }),
);

function applyPb(b: Uint8Array, m: PbMutation): Uint8Array {
  const g = pbFields(b, 0, b.length).find((f) => f.field === 7 && f.wire === 2);
  if (!g) return b;
  const fs = pbFields(b, g.body, g.end);
  if (!fs.length) return b;
  const f = fs[m.a % fs.length]!;
  const rebuild = (graph: Uint8Array) => concat(b.subarray(0, g.start), Uint8Array.of(0x3a), lengthPrefix(graph.length), graph, b.subarray(g.end));
  switch (m.op) {
    case 'swap': {
      let [i, j] = [m.a % fs.length, m.b % fs.length];
      if (i > j) [i, j] = [j, i];
      if (i === j) return b;
      const [fi, fj] = [fs[i]!, fs[j]!];
      return concat(b.subarray(0, fi.start), b.subarray(fj.start, fj.end), b.subarray(fi.end, fj.start), b.subarray(fi.start, fi.end), b.subarray(fj.end));
    }
    case 'renumber': {
      const c = b.slice();
      if (c[f.start]! < 0x80) c[f.start] = (m.to << 3) | f.wire;
      return c;
    }
    case 'repeat':
      return rebuild(concat(b.subarray(g.body, f.end), b.subarray(f.start, f.end), b.subarray(f.end, g.end)));
    case 'drop':
      return rebuild(concat(b.subarray(g.body, f.start), b.subarray(f.end, g.end)));
    case 'length': {
      if (f.wire !== 2) return b;
      const c = b.slice();
      c[f.start + 1] = 0xff;
      return c;
    }
  }
}

// ---------------------------------------------------------------------------------------------------

export const onnxReader: FuzzReader = {
  name: 'onnx',
  about: 'ONNX and QONNX models: the TFC MLPs, backend node tests and random QDQ graphs, message-, protobuf- and byte-mutated',
  cases: () =>
    fc
      .record({
        seed: fc.oneof(
          fc.constantFrom(...QONNX).map((qonnx) => ({ qonnx })),
          { weight: 3, arbitrary: fc.nat().map((nodeTest) => ({ nodeTest })) },
          fc.integer({ min: 1, max: 5000 }).map((random) => ({ random })),
        ),
        edits: some(edit, 3, 2),
        pb: some(pbMutation, 2),
        bytes: some(byteMutation, 2),
        lowBit: fc.boolean(),
      })
      .map(({ seed, edits, pb, bytes, lowBit }): FuzzCase => {
        const s = seedBytes(seed);
        let b = s.bytes;
        if (edits.length) {
          const obj = ModelProtoType.toObject(ModelProtoType.decode(b), { longs: String, arrays: true }) as Obj;
          for (const e of edits) applyEdit(obj, e);
          b = ModelProtoType.encode(ModelProtoType.fromObject(obj)).finish();
        }
        b = applyByteMutations(pb.reduce(applyPb, b), bytes);
        return {
          what: [
            `onnx ${s.name}${lowBit ? '' : ' --no-lowbit'}`,
            ...edits.map((e) => `${e.op} ${JSON.stringify({ ...e, op: undefined }, (_, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v))}`),
            ...pb.map((m) => `graph field ${m.op} ${JSON.stringify({ ...m, op: undefined })}`),
            ...bytes.map(describeByteMutation),
          ].join('; '),
          files: [['model.onnx', b]],
          read: (dir) => void loadModel(join(dir, 'model.onnx'), { lowBit }),
        };
      }),
};
