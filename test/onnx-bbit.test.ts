// b-bit weights from the ONNX importer (issue 13): QONNX Quant weights of 2 to 8 bits and int8/uint8
// DequantizeLinear initializers become `Linear` with packed b-bit codes (detect-bbit), whose
// interpreter result is the float graph's (--no-lowbit) within float rounding and whose C equals
// the interpreter bit for bit on the host and cortex-m4; QLinearMatMul/MatMulInteger weights stay
// int8/uint8 codes; unsigned 8-bit QONNX activations are uint8 codes; `inspect` says why a weight
// stays float32.

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import type { Io } from '../compiler/cli/command.ts';
import { compileGraph } from '../compiler/compile.ts';
import { describeMismatch, firstMismatch } from '../compiler/harness/compare.ts';
import { rng } from '../compiler/harness/inputs.ts';
import { runOnTarget } from '../compiler/harness/run_target.ts';
import type { HarnessModel } from '../compiler/harness/runner.ts';
import { interpret } from '../compiler/interpret.ts';
import { cloneGraph, type Graph, type TypedData } from '../compiler/ir.ts';
import { importOnnx } from '../compiler/readers/onnx/import.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { encodeOnnxModel } from '../compiler/readers/onnx/write.ts';
import { getTarget } from '../compiler/targets.ts';
import { workDir } from './support/differential.ts';
import { scaled } from './support/tier.ts';
import { qonnxMlp, type QonnxMlpOptions } from './support/qonnx_mlp.ts';

const root = workDir('onnx-bbit');

async function tritc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), progress: () => {}, endProgress: () => {} };
  const code = await main(argv, io);
  return { code, out, err };
}

interface Case {
  name: string;
  bytes: Uint8Array;
  /** Declared weight bits per layer (the packed width may only be smaller). */
  bits?: number[];
}

const MLPS: (QonnxMlpOptions & { name: string })[] = [
  { name: 'kws3', dims: [49, 32, 32, 12], bits: [3, 3, 3], perChannel: true, activations: 'int8' },
  { name: 'w4u8', dims: [40, 24, 10], bits: [4, 4], perChannel: true, activations: 'uint8' },
  { name: 'w2', dims: [30, 17, 5], bits: [2, 2], activations: 'none' },
  { name: 'w5narrow', dims: [33, 9, 7], bits: [5, 6], narrow: true, activations: 'int8' },
  { name: 'w8unsigned', dims: [20, 16, 4], bits: [8, 7], signed: false, zeroPoint: 3, perChannel: true, activations: 'none' },
  { name: 'w6zp', dims: [64, 8, 3], bits: [6, 8], zeroPoint: -2, activations: 'uint8' },
];

/** x float [1, K] -> MatMul(DequantizeLinear(W codes [K, N], scale and zero point per column)) -> y. */
function dequantizeLinearModel(dtype: 'int8' | 'uint8', k: number, n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const lo = dtype === 'int8' ? -128 : 0;
  const codes = Array.from({ length: k * n }, () => lo + Math.floor(r() * 256));
  const zeros = Array.from({ length: n }, () => lo + 100 + Math.floor(r() * 56));
  return encodeOnnxModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, k] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, n] }],
    initializers: [
      { name: 'w', dtype, shape: [k, n], data: dtype === 'int8' ? Int8Array.from(codes) : Uint8Array.from(codes) },
      { name: 'ws', dtype: 'float32', shape: [n], data: Float32Array.from({ length: n }, () => 0.001 + r() * 0.01) },
      { name: 'wz', dtype, shape: [n], data: dtype === 'int8' ? Int8Array.from(zeros) : Uint8Array.from(zeros) },
    ],
    nodes: [
      { op: 'DequantizeLinear', inputs: ['w', 'ws', 'wz'], outputs: ['wf'], attrs: { axis: 1 } },
      { op: 'MatMul', name: 'fc', inputs: ['x', 'wf'], outputs: ['y'] },
    ],
  });
}

/** x float [2, K] -> Gemm(x, Quant(W [N, K], 5-bit, scale per row), C, alpha, beta, transB = 1) -> y. */
function gemmModel(k: number, n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return encodeOnnxModel({
    opset: 13,
    opsets: { 'qonnx.custom_op.general': 1 },
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, k] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2, n] }],
    initializers: [
      { name: 'w', dtype: 'float32', shape: [n, k], data: Float32Array.from({ length: n * k }, () => r() * 2 - 1) },
      { name: 'ws', dtype: 'float32', shape: [n, 1], data: Float32Array.from({ length: n }, () => 0.03 + r() * 0.05) },
      { name: 'wz', dtype: 'float32', shape: [], data: [0] },
      { name: 'wb', dtype: 'float32', shape: [], data: [5] },
      { name: 'c', dtype: 'float32', shape: [n], data: Float32Array.from({ length: n }, () => r() - 0.5) },
    ],
    nodes: [
      {
        op: 'Quant',
        domain: 'qonnx.custom_op.general',
        inputs: ['w', 'ws', 'wz', 'wb'],
        outputs: ['wq'],
        attrs: { signed: 1, narrow: 0, rounding_mode: 'ROUND' },
      },
      { op: 'Gemm', name: 'fc', inputs: ['x', 'wq', 'c'], outputs: ['y'], attrs: { alpha: { f: 0.5 }, beta: { f: 2 }, transB: 1 } },
    ],
  });
}

const CASES: Case[] = [
  { name: 'gemm5', bytes: gemmModel(27, 10, 4), bits: [5] },
  ...MLPS.map((m) => ({ name: m.name, bytes: qonnxMlp(m), bits: m.bits })),
  { name: 'dql_int8', bytes: dequantizeLinearModel('int8', 37, 11, 5) },
  { name: 'dql_uint8', bytes: dequantizeLinearModel('uint8', 64, 6, 6) },
];

/**
 * uint8 activation codes from QuantizeLinear times int8 weight codes: MatMulInteger (int32 out) or
 * QLinearMatMul (uint8 out, dequantized).
 */
function integerModel(op: 'MatMulInteger' | 'QLinearMatMul', k: number, n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const scalar = (name: string, dtype: 'float32' | 'uint8' | 'int8', v: number) => ({ name, dtype, shape: [], data: [v] });
  const nodes = [{ op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] }];
  if (op === 'MatMulInteger') nodes.push({ op, inputs: ['xq', 'w', 'xz', 'wz'], outputs: ['y'] });
  else
    nodes.push(
      { op, inputs: ['xq', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz'], outputs: ['yq'] },
      { op: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['y'] },
    );
  return encodeOnnxModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, k] }],
    outputs: [{ name: 'y', dtype: op === 'MatMulInteger' ? 'int32' : 'float32', shape: [1, n] }],
    initializers: [
      { name: 'w', dtype: 'int8', shape: [k, n], data: Int8Array.from({ length: k * n }, () => Math.floor(r() * 256) - 128) },
      scalar('xs', 'float32', 2 ** -6),
      scalar('xz', 'uint8', 0),
      scalar('ws', 'float32', 0.01),
      scalar('wz', 'int8', 3),
      scalar('ys', 'float32', 0.5),
      scalar('yz', 'uint8', 128),
    ],
    nodes,
  });
}

function input(g: Graph, seed: number): Map<string, TypedData> {
  const r = rng(seed);
  const x = g.tensors.get(g.inputs[0]!)!;
  return new Map([[x.name, new Float32Array(x.shape[0]! * x.shape[1]!).map(() => (r() * 2 - 1) * 2)]]);
}

describe('b-bit weights from QONNX Quant and DequantizeLinear', () => {
  const built: { c: Case; g: Graph; run: Map<string, TypedData>; out: TypedData }[] = [];

  it('become Linear with packed codes, equal to the float graph within float rounding', () => {
    for (const [i, c] of CASES.entries()) {
      const g = prepareGraph(importOnnx(c.bytes, `${c.name}.onnx`));
      const float = prepareGraph(importOnnx(c.bytes, `${c.name}.onnx`), { lowBit: false });
      const linear = g.nodes.filter((n) => n.op === 'Linear');
      expect(
        g.nodes.filter((n) => n.op === 'MatMul' || n.op === 'Gemm'),
        c.name,
      ).toEqual([]);
      expect(linear.length, c.name).toBeGreaterThan(0);
      // The bias Add after each MatMul folds into the layer.
      expect(
        g.nodes.filter((n) => n.op === 'Add'),
        c.name,
      ).toEqual([]);
      linear.forEach((n, l) => {
        const w = g.tensors.get(n.inputs[1]!)!;
        expect(w.dtype).toBe('uint8');
        const bits = w.quant!.bits!;
        expect(bits).toBeLessThanOrEqual(c.bits ? Math.max(2, c.bits[l]!) : 8);
        expect(n.annotations.weights).toMatch(new RegExp(`^${bits}-bit codes from (Quant|DequantizeLinear) \\(constant\\)`));
      });
      const run = input(g, i + 1);
      const got = interpret(g, run).get(g.outputs[0]!) as Float32Array;
      const want = interpret(float, run).get(float.outputs[0]!) as Float32Array;
      const scale = Math.max(1, ...Array.from(want, Math.abs));
      for (let j = 0; j < want.length; j++) expect(Math.abs(got[j]! - want[j]!), `${c.name} output ${j}`).toBeLessThan(1e-4 * scale);
      built.push({ c, g, run, out: got });
    }
  });

  it('the 3-bit codes are packed at 3 bits: a weight of K = 49 takes 19 bytes per row', () => {
    const bytes = CASES.find((c) => c.name === 'kws3')!.bytes;
    const g = prepareGraph(importOnnx(bytes, 'kws3.onnx'));
    const compiled = compileGraph(cloneGraph(g), { target: getTarget('cortex-m4'), prefix: 'kws3' });
    const float = compileGraph(prepareGraph(importOnnx(bytes, 'kws3.onnx'), { lowBit: false }), {
      target: getTarget('cortex-m4'),
      prefix: 'kws3f',
    });
    // Codes (ceil(49 * 3 / 8) = 19 bytes per row, + 1 of padding) and a scale and zero point per row.
    const w0 = compiled.emitted.constantBytes.get(g.nodes.find((n) => n.name === 'fc0')!.inputs[1]!);
    expect(w0).toBe(32 * 19 + 1);
    expect(compiled.weightsBytes).toBeLessThan(float.weightsBytes / 5);
  });

  it('QLinearMatMul and MatMulInteger keep their int8 weight codes (one byte each) on uint8 activations', () => {
    for (const op of ['MatMulInteger', 'QLinearMatMul'] as const) {
      const g = prepareGraph(importOnnx(integerModel(op, 45, 13, 9), `${op}.onnx`));
      const node = g.nodes.find((n) => n.op === op)!;
      expect(g.tensors.get(node.inputs[0]!)!.dtype).toBe('uint8');
      expect(g.tensors.get(node.inputs[op === 'MatMulInteger' ? 1 : 3]!)!.dtype).toBe('int8');
      const compiled = compileGraph(cloneGraph(g), { target: getTarget('cortex-m4'), prefix: op });
      expect(compiled.emitted.constantBytes.get('w')).toBe(45 * 13);
      const run = input(g, 3);
      built.push({ c: { name: op, bytes: new Uint8Array() }, g, run, out: interpret(g, run).get(g.outputs[0]!)! });
    }
  });

  for (const target of ['host', 'cortex-m4']) {
    it(`the generated C equals the interpreter bit for bit on ${target}`, async () => {
      const t = getTarget(target);
      const models: HarnessModel[] = built.map((b, i) => ({
        compiled: compileGraph(cloneGraph(b.g), { target: t, prefix: `b${i}`, verify: true, skipFitCheck: true }),
        runs: [b.run],
        dir: `b${i}`,
      }));
      const run = await runOnTarget(models, t, join(root, target), { title: 'b-bit ONNX weights' });
      const failures: string[] = [];
      run.records.forEach((recs, i) => {
        for (const d of models[i]!.compiled.emitted.io.outputs) {
          const m = firstMismatch(recs[0]!.outputs.get(d.cname)!, built[i]!.out);
          if (m) failures.push(`${built[i]!.c.name} on ${target}: ${describeMismatch(d.name, 0, m)}`);
        }
      });
      expect(failures).toEqual([]);
      expect(run.records.length).toBe(built.length);
    });
  }
});

describe('unsigned 8-bit QONNX activations', () => {
  it('become uint8 QuantizeLinear codes, read through DequantizeLinear', () => {
    const g = prepareGraph(importOnnx(qonnxMlp({ dims: [8, 6, 3], bits: [4, 4], activations: 'uint8' }), 'u8.onnx'));
    const q = g.nodes.find((n) => n.op === 'QuantizeLinear')!;
    expect(g.tensors.get(q.outputs[0]!)!.dtype).toBe('uint8');
    expect(g.nodes.find((n) => n.inputs.includes(q.outputs[0]!))!.op).toBe('DequantizeLinear');
  });

  it('other codes that do not fit int8 are one error naming the node', () => {
    const bytes = encodeOnnxModel({
      opset: 13,
      opsets: { 'qonnx.custom_op.general': 1 },
      inputs: [{ name: 'x', dtype: 'float32', shape: [4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [4] }],
      initializers: [
        { name: 's', dtype: 'float32', shape: [], data: [0.5] },
        { name: 'z', dtype: 'float32', shape: [], data: [0] },
        { name: 'b', dtype: 'float32', shape: [], data: [8] },
      ],
      nodes: [
        {
          op: 'Quant',
          name: 'act_q',
          domain: 'qonnx.custom_op.general',
          inputs: ['x', 's', 'z', 'b'],
          outputs: ['y'],
          attrs: { signed: 0, narrow: 1, rounding_mode: 'FLOOR' },
        },
      ],
    });
    expect(() => importOnnx(bytes, 'narrow.onnx')).toThrow(
      /narrow\.onnx.*node "act_q".*codes \[0, 254\] \(8-bit unsigned narrow, zero point 0, FLOOR\) do not fit int8/,
    );
  });
});

describe('tritc inspect says why a weight stays float32', () => {
  it('one phrase per layer: a plain float constant, --no-lowbit', async () => {
    const plain = encodeOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4] }],
      initializers: [{ name: 'w', dtype: 'float32', shape: [8, 4], data: Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)) }],
      nodes: [{ op: 'MatMul', name: 'fc', inputs: ['x', 'w'], outputs: ['y'] }],
    });
    const plainPath = join(root, 'plain.onnx');
    writeFileSync(plainPath, plain);
    const a = JSON.parse((await tritc('inspect', plainPath, '--json')).out);
    expect(a.layers.find((l: { node: string }) => l.node === 'fc').annotations.weights).toBe(
      'float32 (float constant): a plain float constant (not from a quantiser)',
    );
    const mlp = join(root, 'mlp.onnx');
    writeFileSync(mlp, qonnxMlp({ dims: [16, 8, 4], bits: [3, 3], activations: 'int8' }));
    const b = JSON.parse((await tritc('inspect', mlp, '--json', '--no-lowbit')).out);
    expect(b.layers.find((l: { node: string }) => l.node === 'fc0').annotations.weights).toBe('float32 (Quant (constant)): --no-lowbit');
    const c = JSON.parse((await tritc('inspect', mlp, '--json')).out);
    const fc0 = c.layers.find((l: { node: string }) => l.node === 'fc0');
    expect(fc0.op).toBe('Linear');
    expect(fc0.annotations.weights).toBe('3-bit codes from Quant (constant), zero point and scale per channel');
  });
});

describe('detect-bbit reproduces every weight exactly', () => {
  // Any Quant weight (2 to 8 bits, signed or not, narrow or not, zero point, scale per tensor or per
  // row): the Linear's (code - zero) * scale, rounded to float32, is the folded float weight bit for
  // bit, and the codes take at most the Quant's bits.
  it('for random widths, signs, zero points and scales', () => {
    fc.assert(
      fc.property(
        fc.record({
          bits: fc.integer({ min: 2, max: 8 }),
          signed: fc.boolean(),
          narrow: fc.boolean(),
          perChannel: fc.boolean(),
          zeroPoint: fc.integer({ min: -3, max: 3 }),
          k: fc.integer({ min: 1, max: 40 }),
          n: fc.integer({ min: 1, max: 9 }),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        (o) => {
          const bytes = qonnxMlp({
            dims: [o.k, o.n],
            bits: [o.bits],
            signed: o.signed,
            narrow: o.narrow,
            perChannel: o.perChannel,
            zeroPoint: o.zeroPoint,
            seed: o.seed,
          });
          const g = prepareGraph(importOnnx(bytes, 'p.onnx'));
          const float = prepareGraph(importOnnx(bytes, 'p.onnx'), { lowBit: false });
          const mm = float.nodes.find((n) => n.op === 'MatMul')!;
          const wf = float.tensors.get(mm.inputs[1]!)!.data as Float32Array;
          // The codes q - zp of Quant's range, with 0 (the zero point must be a code too).
          const [qmin, qmax] = o.signed ? [-(2 ** (o.bits - 1)) + (o.narrow ? 1 : 0), 2 ** (o.bits - 1) - 1] : [0, 2 ** o.bits - 1 - (o.narrow ? 1 : 0)];
          const span = Math.max(qmax - o.zeroPoint, 0) - Math.min(qmin - o.zeroPoint, 0);
          const lin = g.nodes.find((n) => n.op === 'Linear');
          if (!lin) {
            expect(span, `${JSON.stringify(o)}: only codes spanning more than 8 bits stay float`).toBeGreaterThan(255);
            return;
          }
          const w = g.tensors.get(lin.inputs[1]!)!;
          expect(w.quant!.bits!).toBeLessThanOrEqual(Math.max(2, Math.ceil(Math.log2(Math.min(span, 255) + 1))));
          const codes = w.data as Uint8Array;
          const zeros = g.tensors.get(w.quant!.zeroPoint!)!.data as Uint8Array;
          const scales = g.tensors.get(w.quant!.scale)!.data as Float32Array;
          for (let c = 0; c < o.k; c++)
            for (let r = 0; r < o.n; r++) {
              const v = Math.fround((codes[r * o.k + c]! - zeros[r]!) * scales[r]!);
              if (v !== wf[c * o.n + r]) throw new Error(`${JSON.stringify(o)}: w[${c}, ${r}] = ${wf[c * o.n + r]}, Linear has ${v}`);
            }
        },
      ),
      { numRuns: scaled(60) },
    );
  });
});
