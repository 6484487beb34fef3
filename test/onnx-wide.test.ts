// Older and wider ONNX (issue 16): opsets 1 to 25 through the version table (versions.ts), the ops
// PyTorch exports checked against the spec where the backend node tests do not cover them, model-local
// functions inlined, and symbolic dimensions fixed from the command line. (The new ops' C is compared
// with the interpreter in test/onnx-wide-c.test.ts, and with ONNX's expected outputs by
// test/onnx-backend-ops.test.ts and test/onnx-conformance.test.ts.)

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import type { Io } from '../compiler/cli/command.ts';
import { TritcError } from '../compiler/diagnostics.ts';
import { interpret } from '../compiler/interpret.ts';
import type { Graph, TypedData } from '../compiler/ir.ts';
import { importOnnx } from '../compiler/readers/onnx/import.ts';
import { lookupMapping } from '../compiler/readers/onnx/mappings.ts';
import { OP_VERSIONS, RULES } from '../compiler/readers/onnx/versions.ts';
import { encodeOnnxModel, type FunctionSpec, type ModelSpecOnnx, type NodeSpec, type TensorSpec } from '../compiler/readers/onnx/write.ts';
import { SHARED_DATA } from '../examples/data.ts';
import { workDir } from './support/differential.ts';
import { loadInputRuns } from '../compiler/harness/inputs.ts';
import { makeNdArray, type NdArray } from '../compiler/io/ndarray.ts';
import { writeNpy } from '../compiler/io/npy.ts';

type Init = TensorSpec & { name: string };
const f32 = (name: string, shape: number[], data: number[]): Init => ({ name, dtype: 'float32', shape, data });
const i64 = (name: string, data: number[], shape = [data.length]): Init => ({ name, dtype: 'int64', shape, data });

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof TritcError) return e.diagnostics.map((d) => `${d.where}: ${d.message}`).join('\n');
    throw e;
  }
  throw new Error('expected an error, got none');
}

/** One-node (or few-node) model over float32 input x of `shape`; returns the graph. */
function model(opset: number, shape: number[], nodes: NodeSpec[], outShape: number[], inits: Init[] = [], extra: Partial<ModelSpecOnnx> = {}): Graph {
  return importOnnx(
    encodeOnnxModel({
      opset,
      inputs: [{ name: 'x', dtype: 'float32', shape }],
      outputs: [{ name: 'y', dtype: 'float32', shape: outShape }],
      initializers: inits,
      nodes,
      ...extra,
    }),
    `opset${opset}.onnx`,
  );
}

const run = (g: Graph, x: number[]): number[] =>
  Array.from(interpret(g, new Map<string, TypedData>([['x', Float32Array.from(x)]])).get(g.outputs[0]!) as Float32Array);
const iota = (n: number, scale = 1, offset = 0) => Array.from({ length: n }, (_, i) => Math.fround(i * scale + offset));

describe('opsets 1 to 25: the version table', () => {
  it("lists each op's versions as Changelog.md does", () => {
    const log = readFileSync(join(SHARED_DATA, 'onnx_schema', 'Changelog.md'), 'utf8');
    const seen = new Map<string, number[]>();
    for (const m of log.matchAll(/^### <a name="([A-Za-z]+)-(\d+)"><\/a>/gm)) seen.set(m[1]!, [...(seen.get(m[1]!) ?? []), Number(m[2])]);
    for (const [op, versions] of Object.entries(OP_VERSIONS)) {
      const want = [...new Set(seen.get(op))].filter((v) => v <= 25).sort((a, b) => a - b);
      // Upsample-1 (experimental, height_scale/width_scale) is not mapped; Upsample-10 deprecated it.
      if (op === 'Upsample') expect(want).toEqual([1, 7, 9, 10]);
      else expect(versions, op).toEqual(want);
      expect(lookupMapping('', op), `${op} has a mapping`).toBeDefined();
    }
    for (const r of RULES) for (const op of r.ops) expect(OP_VERSIONS[op], `${op} of a rule`).toBeDefined();
    // And every default-domain op the importer maps has its versions in the table.
    for (const op of seen.keys()) if (lookupMapping('', op)) expect(OP_VERSIONS[op], `${op} is mapped`).toBeDefined();
  });

  it('Add-6 with legacy broadcasting (axis) gives what NumPy broadcasting does from Add-7', () => {
    const legacy = model(
      6,
      [2, 3, 2],
      [{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'], attrs: { broadcast: 1, axis: 1 } }],
      [2, 3, 2],
      [f32('b', [3], [10, 20, 30])],
    );
    const now = model(13, [2, 3, 2], [{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }], [2, 3, 2], [f32('b', [3, 1], [10, 20, 30])]);
    expect(run(legacy, iota(12))).toEqual(run(now, iota(12)));
    expect(run(legacy, iota(12)).slice(0, 4)).toEqual([10, 11, 22, 23]);
    // Suffix matching without axis; a scalar; equal shapes without broadcast.
    const suffix = model(
      1,
      [2, 3],
      [{ op: 'Mul', inputs: ['x', 'b'], outputs: ['y'], attrs: { broadcast: 1, consumed_inputs: [0] } }],
      [2, 3],
      [f32('b', [3], [1, 2, 3])],
    );
    expect(run(suffix, iota(6))).toEqual([0, 2, 6, 3, 8, 15]);
    expect(errorOf(() => model(6, [2, 3], [{ op: 'Sub', inputs: ['x', 'b'], outputs: ['y'] }], [2, 3], [f32('b', [3], [1, 2, 3])]))).toMatch(
      /Sub-6 without broadcast = 1 needs inputs of the same shape, found \[2, 3\] and \[3\]/,
    );
    expect(
      errorOf(() =>
        model(6, [2, 3], [{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'], attrs: { broadcast: 1, axis: 0 } }], [2, 3], [f32('b', [3], [1, 2, 3])]),
      ),
    ).toMatch(/Add-6: B \[3\] is not a contiguous part of A's shape \[2, 3\] from axis 0/);
  });

  it('refuses, with the op version and the attribute, what tritc cannot express', () => {
    const bn = (opset: number, attrs: NodeSpec['attrs']) =>
      model(
        opset,
        [1, 2, 2],
        [{ op: 'BatchNormalization', name: 'bn', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs }],
        [1, 2, 2],
        ['s', 'b', 'm', 'v'].map((n) => f32(n, [2], [1, 1])),
      );
    expect(errorOf(() => bn(6, {}))).toMatch(
      /unsupported op version BatchNormalization-6 \(is_test = 0 \(the default\) is training mode .*set is_test = 1\): node "bn"/,
    );
    expect(errorOf(() => bn(1, { consumed_inputs: [0, 0, 0, 1, 1] }))).toMatch(/BatchNormalization-1 \(is_test = 0/);
    expect(errorOf(() => bn(7, { spatial: 0 }))).toMatch(/unsupported op version BatchNormalization-7 \(spatial = 0 \(statistics per activation/);
    expect(run(bn(6, { is_test: 1, epsilon: { f: 0 } }), [1, 2, 3, 4])).toEqual([1, 2, 3, 4].map((v) => v - 1 + 1));
    expect(run(bn(7, { spatial: 1 }), [0, 0, 0, 0])[0]).toBeCloseTo(1 - 1 / Math.sqrt(1 + 1e-5), 6);
    expect(errorOf(() => model(6, [2], [{ op: 'Dropout', name: 'd', inputs: ['x'], outputs: ['y'] }], [2]))).toMatch(
      /Dropout-6 \(is_test = 0 .*random dropout/,
    );
    expect(run(model(6, [2], [{ op: 'Dropout', inputs: ['x'], outputs: ['y'], attrs: { is_test: 1 } }], [2]), [1, 2])).toEqual([1, 2]);
  });

  it('names an op that its opset does not have yet, or no longer has', () => {
    expect(errorOf(() => model(13, [2], [{ op: 'Gelu', name: 'g', inputs: ['x'], outputs: ['y'] }], [2]))).toMatch(
      /unsupported op Gelu \(not in opset 13: Gelu exists from opset 20\): node "g"/,
    );
    expect(
      errorOf(() => model(11, [1, 1, 2], [{ op: 'Upsample', name: 'u', inputs: ['x', 's'], outputs: ['y'] }], [1, 1, 4], [f32('s', [3], [1, 1, 2])])),
    ).toMatch(/Upsample \(removed in opset 10; the model imports opset 11\)/);
  });

  it('normalises the older forms: Cast-1 names, Concat-1 axis, Reshape-1, Split-1, PRelu-6, Pad-2, Tile-1, TopK-1, Upsample-7/9, Resize-10', () => {
    expect(
      run(
        model(
          1,
          [3],
          [
            { op: 'Cast', inputs: ['x'], outputs: ['t'], attrs: { to: 'INT32' } },
            { op: 'Cast', inputs: ['t'], outputs: ['y'], attrs: { to: 'FLOAT' } },
          ],
          [3],
        ),
        [1.7, -2.5, 3],
      ),
    ).toEqual([1, -2, 3]);
    expect(run(model(1, [2, 1], [{ op: 'Concat', inputs: ['x', 'c'], outputs: ['y'] }], [2, 2], [f32('c', [2, 1], [7, 8])]), [1, 2])).toEqual([1, 7, 2, 8]);
    expect(
      run(
        model(
          1,
          [2, 3],
          [
            { op: 'Reshape', inputs: ['x'], outputs: ['r'], attrs: { shape: [3, 2] } },
            { op: 'Relu', inputs: ['r'], outputs: ['y'], attrs: { consumed_inputs: [0] } },
          ],
          [3, 2],
        ),
        [-1, 2, -3, 4, -5, 6],
      ),
    ).toEqual([0, 2, 0, 4, 0, 6]);
    expect(
      run(
        model(
          1,
          [4],
          [
            { op: 'Split', inputs: ['x', 'sp'], outputs: ['a', 'b'] },
            { op: 'Identity', inputs: ['b'], outputs: ['y'] },
          ],
          [3],
          [i64('sp', [1, 3])],
        ),
        [1, 2, 3, 4],
      ),
    ).toEqual([2, 3, 4]);
    // PRelu-6: a slope of C values is per channel (axis 1), not aligned with the last axis.
    expect(run(model(6, [1, 2, 3], [{ op: 'PRelu', inputs: ['x', 's'], outputs: ['y'] }], [1, 2, 3], [f32('s', [2], [0.5, 2])]), iota(6, 1, -3))).toEqual([
      -1.5, -1, -0.5, 0, 1, 2,
    ]);
    expect(run(model(2, [2], [{ op: 'Pad', inputs: ['x'], outputs: ['y'], attrs: { pads: [1, 2], value: { f: 9 } } }], [5]), [1, 2])).toEqual([9, 1, 2, 9, 9]);
    expect(run(model(1, [2], [{ op: 'Pad', inputs: ['x'], outputs: ['y'], attrs: { paddings: [0, 1], mode: 'edge' } }], [3]), [1, 2])).toEqual([1, 2, 2]);
    expect(run(model(5, [1, 2], [{ op: 'Tile', inputs: ['x', 't', 'a'], outputs: ['y'] }], [1, 6], [i64('t', [3], []), i64('a', [1], [])]), [1, 2])).toEqual([
      1, 2, 1, 2, 1, 2,
    ]);
    expect(run(model(9, [5], [{ op: 'TopK', inputs: ['x'], outputs: ['y', 'i'], attrs: { k: 2 } }], [2]), [3, 9, 1, 9, 4])).toEqual([9, 9]);
    const up7 = model(7, [1, 1, 2], [{ op: 'Upsample', inputs: ['x'], outputs: ['y'], attrs: { scales: { floats: [1, 1, 2] } } }], [1, 1, 4]);
    const up9 = model(9, [1, 1, 2], [{ op: 'Upsample', inputs: ['x', 's'], outputs: ['y'], attrs: { mode: 'linear' } }], [1, 1, 4], [f32('s', [3], [1, 1, 2])]);
    const rs10 = model(10, [1, 1, 2], [{ op: 'Resize', inputs: ['x', 's'], outputs: ['y'], attrs: { mode: 'linear' } }], [1, 1, 4], [f32('s', [3], [1, 1, 2])]);
    expect(run(up7, [1, 3])).toEqual([1, 1, 3, 3]);
    expect(run(up9, [1, 3])).toEqual([1, 2, 3, 3]); // asymmetric: x / 2, the last clamped
    expect(run(rs10, [1, 3])).toEqual(run(up9, [1, 3]));
  });
});

describe('new ops against the spec (where the backend node tests have no float32 case)', () => {
  it('CumSum: the examples of Operators.md, inclusive, exclusive, reverse', () => {
    const cs = (attrs: NodeSpec['attrs']) =>
      run(model(14, [5], [{ op: 'CumSum', inputs: ['x', 'ax'], outputs: ['y'], attrs }], [5], [i64('ax', [0], [])]), [1, 2, 3, 4, 5]);
    expect(cs({})).toEqual([1, 3, 6, 10, 15]);
    expect(cs({ exclusive: 1 })).toEqual([0, 1, 3, 6, 10]);
    expect(cs({ reverse: 1 })).toEqual([15, 14, 12, 9, 5]);
    expect(cs({ exclusive: 1, reverse: 1 })).toEqual([14, 12, 9, 5, 0]);
  });

  it('Range (folded at import): the examples of Operators.md', () => {
    const range = (s: number, l: number, d: number, n: number) =>
      run(
        model(
          11,
          [n],
          [
            { op: 'Range', inputs: ['s', 'l', 'd'], outputs: ['r'] },
            { op: 'Add', inputs: ['x', 'r'], outputs: ['y'] },
          ],
          [n],
          [f32('s', [], [s]), f32('l', [], [l]), f32('d', [], [d])],
        ),
        Array(n).fill(0),
      );
    expect(range(3, 9, 3, 2)).toEqual([3, 6]);
    expect(range(10, 4, -2, 3)).toEqual([10, 8, 6]);
    expect(
      model(
        11,
        [2],
        [
          { op: 'Range', inputs: ['s', 'l', 'd'], outputs: ['r'] },
          { op: 'Add', inputs: ['x', 'r'], outputs: ['y'] },
        ],
        [2],
        [f32('s', [], [0]), f32('l', [], [2]), f32('d', [], [1])],
      ).nodes.map((n) => n.op),
    ).toEqual(['Add']);
  });

  it('ScatterND: the examples of Operators.md (replace, add, mul)', () => {
    const data = [1, 2, 3, 4, 5, 6, 7, 8];
    const sc = (reduction: string) =>
      run(
        model(
          18,
          [8],
          [{ op: 'ScatterND', inputs: ['x', 'i', 'u'], outputs: ['y'], attrs: { reduction } }],
          [8],
          [i64('i', [4, 3, 1, 7], [4, 1]), f32('u', [4], [9, 10, 11, 12])],
        ),
        data,
      );
    expect(sc('none')).toEqual([1, 11, 3, 10, 9, 6, 7, 12]);
    expect(sc('add')).toEqual([1, 13, 3, 14, 14, 6, 7, 20]);
    expect(sc('mul')).toEqual([1, 22, 3, 40, 45, 6, 7, 96]);
  });

  it('LRN: the formula of Operators.md, in float64, within 1e-6', () => {
    const [n, c, hw] = [1, 5, 2];
    const x = iota(n * c * hw, 0.37, -1.5);
    const [alpha, beta, bias, size] = [0.2, 0.75, 1.5, 3];
    const got = run(
      model(
        13,
        [n, c, hw],
        [{ op: 'LRN', inputs: ['x'], outputs: ['y'], attrs: { alpha: { f: alpha }, beta: { f: beta }, bias: { f: bias }, size } }],
        [n, c, hw],
      ),
      x,
    );
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < hw; i++) {
        let s = 0;
        for (let q = Math.max(0, ch - 1); q <= Math.min(c - 1, ch + 1); q++) s += x[q * hw + i]! ** 2;
        expect(got[ch * hw + i]).toBeCloseTo(x[ch * hw + i]! / (bias + (alpha / size) * s) ** beta, 6);
      }
  });

  it('Abs, Neg, Floor, Ceil, Round at their edges', () => {
    const g = (op: string) => run(model(13, [7], [{ op, inputs: ['x'], outputs: ['y'] }], [7]), [-2.5, -1.5, -0.5, -0, 0.5, 1.5, 2.5]);
    expect(g('Round')).toEqual([-2, -2, -0, -0, 0, 2, 2]);
    expect(g('Floor')).toEqual([-3, -2, -1, -0, 0, 1, 2]);
    expect(g('Ceil')).toEqual([-2, -1, -0, -0, 1, 2, 3]);
    expect(g('Abs')).toEqual([2.5, 1.5, 0.5, 0, 0.5, 1.5, 2.5]);
    expect(Object.is(g('Round')[3], -0) && Object.is(g('Abs')[3], 0)).toBe(true);
    const ints = importOnnx(
      encodeOnnxModel({
        opset: 13,
        inputs: [{ name: 'x', dtype: 'int8', shape: [3] }],
        outputs: [
          { name: 'a', dtype: 'int8', shape: [3] },
          { name: 'n', dtype: 'int8', shape: [3] },
        ],
        nodes: [
          { op: 'Abs', inputs: ['x'], outputs: ['a'] },
          { op: 'Neg', inputs: ['x'], outputs: ['n'] },
        ],
      }),
      'ints.onnx',
    );
    const out = interpret(ints, new Map([['x', Int8Array.of(-128, -3, 5)]]));
    expect(Array.from(out.get('a') as Int8Array)).toEqual([-128, 3, 5]); // wraps, as C's unsigned negation
    expect(Array.from(out.get('n') as Int8Array)).toEqual([-128, 3, -5]);
  });

  it('LSTM and GRU, bidirectional with the options the backend tests leave out, against a float64 reference', () => {
    const [seq, batch, input, H] = [3, 2, 2, 2];
    const rnd = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 1.7 + k) * 0.6));
    const x = rnd(seq * batch * input, 1);
    for (const kind of ['LSTM', 'GRU'] as const) {
      for (const opts of [
        { linear: 0, clip: 0, inputForget: 0 },
        { linear: 1, clip: 0.6, inputForget: 1 },
      ]) {
        const G = kind === 'LSTM' ? 4 : 3;
        const W = rnd(2 * G * H * input, 2);
        const R = rnd(2 * G * H * H, 3);
        const B = rnd(2 * 2 * G * H, 4);
        const P = rnd(2 * 3 * H, 5);
        const lens = [3, 2];
        const inits: Init[] = [
          f32('W', [2, G * H, input], W),
          f32('R', [2, G * H, H], R),
          f32('B', [2, 2 * G * H], B),
          { name: 'L', dtype: 'int32', shape: [2], data: lens },
        ];
        if (kind === 'LSTM') inits.push(f32('P', [2, 3 * H], P));
        const ins = kind === 'LSTM' ? ['x', 'W', 'R', 'B', 'L', '', '', 'P'] : ['x', 'W', 'R', 'B', 'L'];
        const attrs: NodeSpec['attrs'] = { hidden_size: H, direction: 'bidirectional', ...(opts.clip ? { clip: { f: opts.clip } } : {}) };
        if (kind === 'LSTM') attrs.input_forget = opts.inputForget;
        else attrs.linear_before_reset = opts.linear;
        const g = model(14, [seq, batch, input], [{ op: kind, inputs: ins, outputs: ['y'], attrs }], [seq, 2, batch, H], inits);
        const got = run(g, x);
        const want = rnnReference(kind, x, W, R, B, P, lens, { seq, batch, input, H }, opts);
        expect(got.length).toBe(want.length);
        got.forEach((v, i) => expect(v, `${kind} ${JSON.stringify(opts)} element ${i}`).toBeCloseTo(want[i]!, 5));
      }
    }
  });
});

/** A float64 LSTM/GRU (bidirectional, sequence lengths, clip, linear_before_reset, input_forget): Y. */
function rnnReference(
  kind: 'LSTM' | 'GRU',
  x: number[],
  W: number[],
  R: number[],
  B: number[],
  P: number[],
  lens: number[],
  d: { seq: number; batch: number; input: number; H: number },
  o: { linear: number; clip: number; inputForget: number },
): number[] {
  const { seq, batch, input, H } = d;
  const G = kind === 'LSTM' ? 4 : 3;
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const cl = (v: number) => (o.clip ? Math.max(-o.clip, Math.min(o.clip, v)) : v);
  const Y = new Array<number>(seq * 2 * batch * H).fill(0);
  for (let dir = 0; dir < 2; dir++)
    for (let b = 0; b < batch; b++) {
      let h = new Array<number>(H).fill(0);
      const c = new Array<number>(H).fill(0);
      for (let s = 0; s < lens[b]!; s++) {
        const t = dir ? lens[b]! - 1 - s : s;
        const xt = x.slice((t * batch + b) * input, (t * batch + b + 1) * input);
        const lin = (row: number, v: number[], M: number[], n: number, m0: number) => v.reduce((acc, vk, k) => acc + vk * M[m0 + row * n + k]!, 0);
        const wx = (row: number) => lin(row, xt, W, input, dir * G * H * input) + B[dir * 2 * G * H + row]!;
        const rh = (row: number, v: number[]) => lin(row, v, R, H, dir * G * H * H) + B[dir * 2 * G * H + G * H + row]!;
        if (kind === 'LSTM') {
          const p = (g: number, j: number) => P[dir * 3 * H + g * H + j]!;
          const hn = new Array<number>(H);
          for (let j = 0; j < H; j++) {
            const i = sig(cl(wx(j) + rh(j, h) + p(0, j) * c[j]!));
            const f = o.inputForget ? 1 - i : sig(cl(wx(2 * H + j) + rh(2 * H + j, h) + p(2, j) * c[j]!));
            const gg = Math.tanh(cl(wx(3 * H + j) + rh(3 * H + j, h)));
            c[j] = f * c[j]! + i * gg;
            const og = sig(cl(wx(H + j) + rh(H + j, h) + p(1, j) * c[j]!));
            hn[j] = og * Math.tanh(c[j]!);
          }
          h = hn;
        } else {
          const z = h.map((_, j) => sig(cl(wx(j) + rh(j, h))));
          const r = h.map((_, j) => sig(cl(wx(H + j) + rh(H + j, h))));
          const n = h.map((_, j) =>
            Math.tanh(
              cl(
                o.linear
                  ? wx(2 * H + j) + r[j]! * rh(2 * H + j, h)
                  : wx(2 * H + j) +
                      rh(
                        2 * H + j,
                        h.map((v, k) => v * r[k]!),
                      ),
              ),
            ),
          );
          h = h.map((v, j) => (1 - z[j]!) * n[j]! + z[j]! * v);
        }
        h.forEach((v, j) => (Y[((t * 2 + dir) * batch + b) * H + j] = v));
      }
    }
  return Y;
}

describe('ONNX functions (ModelProto.functions) are inlined', () => {
  const fn: FunctionSpec = {
    name: 'ScaledAct',
    domain: 'pkg.torch',
    inputs: ['a', 'b'],
    outputs: ['c'],
    attributes: ['alpha'],
    defaults: { alpha: { f: 0.25 } },
    nodes: [
      { op: 'Mul', name: 'mul', inputs: ['a', 'b'], outputs: ['m'] },
      { op: 'LeakyRelu', name: 'act', inputs: ['m'], outputs: ['c'], attrs: { alpha: { ref: 'alpha', type: 'float' } } },
    ],
  };
  const outer: FunctionSpec = {
    name: 'Block',
    domain: 'pkg.torch',
    inputs: ['p', 'q'],
    outputs: ['r'],
    nodes: [
      { op: 'ScaledAct', domain: 'pkg.torch', name: 'inner', inputs: ['p', 'q'], outputs: ['m'], attrs: { alpha: { f: 2 } } },
      { op: 'Neg', name: 'neg', inputs: ['m'], outputs: ['r'] },
    ],
  };
  const spec = (nodes: NodeSpec[], functions: FunctionSpec[]): ModelSpecOnnx => ({
    opset: 18,
    opsets: { 'pkg.torch': 1 },
    inputs: [{ name: 'x', dtype: 'float32', shape: [4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [4] }],
    initializers: [f32('w', [4], [1, 2, 3, 4])],
    nodes,
    functions,
  });

  it('attribute references take the call attribute, else the default; names stay unique; calls nest', () => {
    const g = importOnnx(
      encodeOnnxModel(
        spec(
          [
            { op: 'ScaledAct', domain: 'pkg.torch', name: 'f', inputs: ['x', 'w'], outputs: ['m'], attrs: { alpha: { f: 0.5 } } },
            { op: 'ScaledAct', domain: 'pkg.torch', name: 'f', inputs: ['m', 'w'], outputs: ['t'] },
            { op: 'Block', domain: 'pkg.torch', name: 'blk', inputs: ['t', 'w'], outputs: ['y'] },
          ],
          [fn, outer],
        ),
      ),
      'fn.onnx',
    );
    expect(g.nodes.map((n) => n.name)).toEqual(['f/mul', 'f/act', 'f/mul.1', 'f/act.1', 'blk/inner/mul', 'blk/inner/act', 'blk/neg']);
    expect(g.nodes.filter((n) => n.op === 'LeakyRelu').map((n) => n.attrs.alpha)).toEqual([0.5, 0.25, 2]);
    // x = -1: -1 * 1 -> LeakyRelu 0.5: -0.5 -> * 1 -> 0.25: -0.125 -> * 1 -> 2: -0.25 -> Neg: 0.25;
    // x = 1 (w = 2): 2 -> 4 -> 8 -> -8.
    expect(run(g, [-1, 1, -1, 1])).toEqual([0.25, -8, 6.75, -64]);
  });

  it('a function that calls itself is an error naming the chain', () => {
    const loop: FunctionSpec = { ...fn, nodes: [{ op: 'ScaledAct', domain: 'pkg.torch', inputs: ['a', 'b'], outputs: ['c'] }] };
    expect(
      errorOf(() =>
        importOnnx(encodeOnnxModel(spec([{ op: 'ScaledAct', domain: 'pkg.torch', name: 'f', inputs: ['x', 'w'], outputs: ['y'] }], [loop])), 'loop.onnx'),
      ),
    ).toMatch(/node "f\/ScaledAct_0" \(pkg.torch.ScaledAct\): calls function "ScaledAct" recursively \(ScaledAct -> ScaledAct\)/);
  });
});

describe('symbolic dimensions: --input-shape and --batch', () => {
  const dir = workDir('onnx-wide-shapes');
  const path = join(dir, 'sym.onnx');
  writeFileSync(
    path,
    encodeOnnxModel({
      opset: 11,
      inputs: [
        { name: 'x', dtype: 'float32', shape: ['batch', 'seq'] },
        { name: 'z', dtype: 'float32', shape: ['batch', 3] },
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 3] }],
      nodes: [
        { op: 'ReduceSum', inputs: ['x'], outputs: ['s'], attrs: { axes: [1] } },
        { op: 'Add', inputs: ['z', 's'], outputs: ['y'] },
      ],
    }),
  );
  async function tritc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), progress: () => {}, endProgress: () => {} };
    return { code: await main(argv, io), out, err };
  }

  it('an unfixed symbolic dimension names the input, the dim_param and the options', async () => {
    const r = await tritc('inspect', path);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'graph input "x": dimension 0 is the symbol "batch"; tritc needs static, positive dimensions: give them with --input-shape x=1,1 or --batch 1',
    );
    expect(r.err).toContain('graph input "x": dimension 1 is the symbol "seq"');
    // --batch fixes the leading dimensions; seq is still open.
    const b = await tritc('inspect', path, '--batch', '2');
    expect(b.err).not.toContain('"batch"');
    expect(b.err).toContain('dimension 1 is the symbol "seq"; tritc needs static, positive dimensions: give them with --input-shape x=1,1 (or');
  });

  it('--input-shape (repeatable) with --batch makes the model static on inspect, compile and run', async () => {
    const i = await tritc('inspect', path, '--input-shape', 'x=2,5', '--batch', '2', '--json');
    expect(i.code).toBe(0);
    const shapes = (out: string) => JSON.parse(out).layers.map((l: { outputs: { shape: number[] }[] }) => l.outputs[0]!.shape);
    expect(shapes(i.out)).toEqual([
      [2, 1],
      [2, 3],
    ]);
    const both = await tritc('inspect', path, '--input-shape', 'x=4,5', '--input-shape', 'z=4,3', '--json');
    expect(shapes(both.out).at(-1)).toEqual([4, 3]);
    const c = await tritc('compile', path, '--input-shape', 'x=1,7', '--batch', '1', '-o', join(dir, 'out'));
    expect(c.code).toBe(0);
    expect(readFileSync(join(dir, 'out', 'model.h'), 'utf8')).toMatch(/x +float32 \[1, 7\]/);
  });

  it('rejects shapes that contradict the model, unknown inputs, and other formats', async () => {
    expect((await tritc('inspect', path, '--input-shape', 'z=2,4', '--batch', '2', '--input-shape', 'x=2,2')).err).toContain(
      'graph input "z": dimension 1 is 3 in the model; --input-shape gives 4',
    );
    expect((await tritc('inspect', path, '--input-shape', 'q=1', '--batch', '1')).err).toContain(
      '--input-shape: names "q", which is not a graph input; the inputs are "x", "z"',
    );
    expect((await tritc('inspect', path, '--input-shape', 'x=1,0')).err).toContain('--input-shape: dimensions must be positive');
    const native = join(import.meta.dirname, '../examples/digits-mlp');
    const n = await tritc('inspect', native, '--batch', '1');
    expect(n.code).toBe(2);
    expect(n.err).toContain('--batch: ');
    expect(n.err).toContain('whose shapes are static; it applies to ONNX models');
  });
});

describe('.npy inputs of another dtype than the model input', () => {
  const dir = workDir('onnx-wide-npy');
  const g = importOnnx(
    encodeOnnxModel({
      opset: 13,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [2] },
        { name: 'k', dtype: 'int8', shape: [2] },
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
      nodes: [
        { op: 'Cast', inputs: ['k'], outputs: ['kf'], attrs: { to: 1 } },
        { op: 'Add', inputs: ['x', 'kf'], outputs: ['y'] },
      ],
    }),
    'npy.onnx',
  );
  const file = (name: string, a: NdArray) => {
    const p = join(dir, name);
    writeFileSync(p, writeNpy(a));
    return p;
  };
  const int8 = file('k.npy', makeNdArray('int8', [2], Int8Array.of(1, -2)));

  it('are converted with a warning naming the file when every value survives', () => {
    const warnings: string[] = [];
    const x = file('x64.npy', makeNdArray('float64', [2], Float64Array.of(1.5, -0.25)));
    const k = file('k32.npy', makeNdArray('int32', [2], Int32Array.of(127, -128)));
    const { runs } = loadInputRuns(g, `${x},${k}`, (m) => warnings.push(m));
    expect(Array.from(runs[0]!.get('x') as Float32Array)).toEqual([1.5, -0.25]);
    expect(Array.from(runs[0]!.get('k') as Int8Array)).toEqual([127, -128]);
    expect(warnings).toEqual([
      `${x}: input "x" is float32; the file holds float64, converted (every value exactly)`,
      `${k}: input "k" is int8; the file holds int32, converted (every value exactly)`,
    ]);
    const i32 = file('xi.npy', makeNdArray('int32', [2], Int32Array.of(16777216, -3)));
    expect(Array.from(loadInputRuns(g, `${i32},${int8}`).runs[0]!.get('x') as Float32Array)).toEqual([16777216, -3]);
  });

  it('are refused, naming the file, index and value, where the conversion would lose values', () => {
    const lossy = (a: NdArray, b = int8) => errorOf(() => loadInputRuns(g, `${file('bad.npy', a)},${b}`));
    expect(lossy(makeNdArray('int32', [2], Int32Array.of(1, 16777217)))).toMatch(
      /bad\.npy: input "x" is float32; the file holds int32, and the value 16777217 at index 1 would become 16777216: save the array as float32/,
    );
    expect(lossy(makeNdArray('float64', [2], Float64Array.of(0.1, 0)))).toMatch(
      /the file holds float64, and the value 0.1 at index 0 would become 0.10000000149011612/,
    );
    expect(lossy(makeNdArray('int64', [2], BigInt64Array.of(1n, 9007199254740993n)))).toMatch(/the value 9007199254740993 at index 1/);
    const x = file('x.npy', makeNdArray('float32', [2], Float32Array.of(0, 0)));
    expect(errorOf(() => loadInputRuns(g, `${x},${file('k64.npy', makeNdArray('int64', [2], BigInt64Array.of(5n, 300n)))}`))).toMatch(
      /k64\.npy: input "k" is int8; the file holds int64, and the value 300 at index 1 does not fit it/,
    );
    expect(errorOf(() => loadInputRuns(g, `${x},${file('kf.npy', makeNdArray('float32', [2], Float32Array.of(1, 2)))}`))).toMatch(
      /kf\.npy: input "k" is int8, the file holds float32: save the array as int8/,
    );
  });
});
