// The ONNX reader never crashes on bad bytes: hundreds of deterministic mutations of real model files
// (bit flips, truncation, swapped and repeated fields, corrupted lengths), each of which must either
// load or fail with a TritcError; never a TypeError, RangeError or any other JavaScript exception.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { rng } from '../compiler/harness/inputs.ts';
import { compileGraph } from '../compiler/compile.ts';
import { randomRuns } from '../compiler/harness/inputs.ts';
import { interpret } from '../compiler/interpret.ts';
import { importOnnx } from '../compiler/readers/onnx/import.ts';
import { ModelProtoType } from '../compiler/readers/onnx/schema.ts';
import { getTarget } from '../compiler/targets.ts';
import { SHARED_DATA } from '../examples/data.ts';

interface Field {
  start: number; // first byte of the tag
  body: number; // first byte after the tag (and length, for wire type 2)
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

/** The fields of a (well-formed) message between start and end; stops at anything odd. */
function fields(b: Uint8Array, start: number, end: number): Field[] {
  const out: Field[] = [];
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

type Mutation = (b: Uint8Array, r: () => number) => { bytes: Uint8Array; what: string };
const pick = (r: () => number, n: number) => Math.floor(r() * n);

/** The graph message's fields (nodes, initializers, inputs...) and the byte range of the graph. */
function graphFields(b: Uint8Array): Field[] {
  const g = fields(b, 0, b.length).find((f) => f.field === 7 && f.wire === 2);
  return g ? fields(b, g.body, g.end) : [];
}

const MUTATIONS: Mutation[] = [
  (b, r) => {
    const c = b.slice();
    const flips = 1 + pick(r, 4);
    for (let i = 0; i < flips; i++) c[pick(r, c.length)]! ^= 1 << pick(r, 8);
    return { bytes: c, what: `${flips} bit flip(s)` };
  },
  (b, r) => {
    const n = pick(r, b.length);
    return { bytes: b.slice(0, n), what: `truncated to ${n} bytes` };
  },
  (b, r) => {
    // Flip bits only in the first 200 bytes, where the headers and first nodes are.
    const c = b.slice();
    c[pick(r, Math.min(200, c.length))]! ^= 1 << pick(r, 8);
    return { bytes: c, what: 'a header bit flip' };
  },
  (b, r) => {
    // Swap two fields of the graph (their bytes change places).
    const fs = graphFields(b);
    if (fs.length < 2) return { bytes: b, what: 'unchanged' };
    let i = pick(r, fs.length);
    let j = pick(r, fs.length);
    if (i > j) [i, j] = [j, i];
    if (i === j) return { bytes: b, what: 'unchanged' };
    const [fi, fj] = [fs[i]!, fs[j]!];
    const bytes = concat(b.subarray(0, fi.start), b.subarray(fj.start, fj.end), b.subarray(fi.end, fj.start), b.subarray(fi.start, fi.end), b.subarray(fj.end));
    return { bytes, what: `graph fields ${i} and ${j} swapped` };
  },
  (b, r) => {
    // Give a graph field another field number (same wire type, so it decodes as the wrong message).
    const fs = graphFields(b).filter((f) => f.body - f.start >= 2 || f.field < 16);
    if (!fs.length) return { bytes: b, what: 'unchanged' };
    const f = fs[pick(r, fs.length)]!;
    const to = [1, 5, 11, 12, 13][pick(r, 5)]!;
    const c = b.slice();
    if (c[f.start]! < 0x80 && to < 16) c[f.start] = (to << 3) | f.wire;
    return { bytes: c, what: `graph field ${f.field} renumbered ${to}` };
  },
  (b, r) => {
    // Repeat a graph field (a duplicated node or initializer).
    const fs = graphFields(b);
    if (!fs.length) return { bytes: b, what: 'unchanged' };
    const f = fs[pick(r, fs.length)]!;
    const g = fields(b, 0, b.length).find((x) => x.field === 7)!;
    // Growing the graph changes its length prefix: rebuild the graph field.
    const graph = concat(b.subarray(g.body, f.end), b.subarray(f.start, f.end), b.subarray(f.end, g.end));
    const len: number[] = [];
    let n = graph.length;
    do {
      len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    return { bytes: concat(b.subarray(0, g.start), new Uint8Array([0x3a, ...len]), graph, b.subarray(g.end)), what: `graph field ${f.field} repeated` };
  },
  (b, r) => {
    // Drop a graph field (a node, an initializer, an input...).
    const fs = graphFields(b);
    if (!fs.length) return { bytes: b, what: 'unchanged' };
    const f = fs[pick(r, fs.length)]!;
    const g = fields(b, 0, b.length).find((x) => x.field === 7)!;
    const graph = concat(b.subarray(g.body, f.start), b.subarray(f.end, g.end));
    const len: number[] = [];
    let n = graph.length;
    do {
      len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    return { bytes: concat(b.subarray(0, g.start), new Uint8Array([0x3a, ...len]), graph, b.subarray(g.end)), what: `graph field ${f.field} dropped` };
  },
  (b, r) => {
    // Corrupt a length prefix to a huge value.
    const fs = graphFields(b).filter((f) => f.wire === 2);
    if (!fs.length) return { bytes: b, what: 'unchanged' };
    const f = fs[pick(r, fs.length)]!;
    const c = b.slice();
    const lenAt = f.start + 1;
    c[lenAt] = 0xff;
    return { bytes: c, what: `length of graph field ${f.field} corrupted` };
  },
  (b, r) => {
    // Overwrite a run of bytes with random values.
    const c = b.slice();
    const at = pick(r, c.length);
    const n = 1 + pick(r, 16);
    for (let i = at; i < Math.min(c.length, at + n); i++) c[i] = pick(r, 256);
    return { bytes: c, what: `${n} random bytes at ${at}` };
  },
];

const MODELS = [
  join(SHARED_DATA, 'qonnx', 'models', 'TFC_2W2A.onnx'),
  join(SHARED_DATA, 'qonnx', 'models', 'TFC_1W1A.onnx'),
  join(SHARED_DATA, 'onnx_backend_tests', 'node', 'test_add_bcast', 'model.onnx'),
  join(SHARED_DATA, 'onnx_backend_tests', 'node', 'test_softmax_axis_0', 'model.onnx'),
  join(SHARED_DATA, 'onnx_backend_tests', 'node', 'test_reshape_reordered_all_dims', 'model.onnx'),
];

describe('ONNX reader fuzzing', () => {
  it('loads or fails with a TritcError on 540 mutated model files', () => {
    const outcome = { loaded: 0, rejected: 0 };
    const crashes: string[] = [];
    MODELS.forEach((path, mi) => {
      const original = new Uint8Array(readFileSync(path));
      const r = rng(4242 + mi);
      for (let c = 0; c < 108; c++) {
        const m = MUTATIONS[c % MUTATIONS.length]!;
        const { bytes, what } = m(original, r);
        try {
          importOnnx(bytes, 'fuzz.onnx');
          outcome.loaded++;
        } catch (e) {
          if (e instanceof TritcError) outcome.rejected++;
          else crashes.push(`${path.split('/').slice(-2).join('/')} case ${c} (${what}): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        }
      }
    });
    expect(crashes).toEqual([]);
    expect(outcome.loaded + outcome.rejected).toBe(540);
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    expect(outcome.loaded).toBeGreaterThan(20);
    expect(outcome.rejected).toBeGreaterThan(100);
  });

  it('loads or fails with a TritcError on 400 well-formed but wrong models (attributes, dims, wiring, op types)', () => {
    // Valid protobufs with wrong contents: an attribute set to a random small integer (or NaN),
    // an initializer dimension changed, a node input rewired to another tensor or left out, a node
    // given another op type. What loads must also interpret and compile without a JavaScript error.
    const models = [
      ...MODELS,
      ...[
        'test_gemm_default_single_elem_vector_bias',
        'test_transpose_all_permutations_3',
        'test_gather_1',
        'test_concat_2d_axis_negative_1',
        'test_maxpool_2d_pads',
        'test_layer_normalization_3d_axis1_epsilon',
        'test_dequantizelinear_axis',
      ].map((t) => join(SHARED_DATA, 'onnx_backend_tests', 'node', t, 'model.onnx')),
    ];
    const r = rng(777);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
    const small = () => Math.floor(r() * 16) - 5;
    const crashes: string[] = [];
    let loaded = 0;
    for (let c = 0; c < 400; c++) {
      const path = models[c % models.length]!;
      type Obj = {
        graph: {
          node: { opType: string; domain?: string; input: string[]; attribute?: { name: string; ints?: number[]; i?: number; f?: number }[] }[];
          initializer: { name: string; dims: number[] }[];
          input: { name: string }[];
        };
      };
      const obj = ModelProtoType.toObject(ModelProtoType.decode(new Uint8Array(readFileSync(path))), { longs: Number, arrays: true }) as unknown as Obj;
      const g0 = obj.graph;
      const what = c % 4;
      let desc = '';
      if (what === 0) {
        const n = pick(g0.node);
        const a = n.attribute?.length ? pick(n.attribute) : undefined;
        if (a?.ints) a.ints = a.ints.map(small);
        else if (a?.i !== undefined) a.i = small();
        else if (a?.f !== undefined) a.f = pick([0, -1, 1e30, Number.NaN]);
        desc = `attribute ${a?.name} of ${n.opType}`;
      } else if (what === 1 && g0.initializer.length) {
        const t = pick(g0.initializer);
        if (t.dims.length) t.dims[Math.floor(r() * t.dims.length)] = Math.max(0, small());
        desc = `dims of ${t.name}`;
      } else if (what === 2) {
        const n = pick(g0.node);
        if (n.input.length) n.input[Math.floor(r() * n.input.length)] = pick([...g0.initializer.map((t) => t.name), ...g0.input.map((t) => t.name), '']);
        desc = `an input of ${n.opType} rewired`;
      } else {
        const n = pick(g0.node);
        n.opType = pick(['Relu', 'Softmax', 'Transpose', 'Reshape', 'Gather', 'MatMul', 'Conv', 'Quant', 'BatchNormalization', 'Concat']);
        if (n.opType === 'Quant') n.domain = 'onnx.brevitas';
        desc = `op type changed to ${n.opType}`;
      }
      const bytes = ModelProtoType.encode(ModelProtoType.fromObject(obj)).finish();
      try {
        const g = importOnnx(bytes, 'wrong.onnx');
        loaded++;
        interpret(g, randomRuns(g, 1, c)[0]!);
        compileGraph(g, { target: getTarget('host'), verify: true, skipFitCheck: true });
      } catch (e) {
        if (!(e instanceof TritcError))
          crashes.push(`${path.split('/').slice(-2).join('/')} case ${c} (${desc}): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
    }
    expect(crashes).toEqual([]);
    expect(loaded).toBeGreaterThan(40);
  });
});
