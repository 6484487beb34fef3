// QONNX Quant / BipolarQuant on activations: every rounding mode, zero points, bit widths, signed and
// unsigned, narrow, and scalar Mul/Add/Sub/Div chains in front (fused into QuantizeStatic). The
// interpreter must equal an independent float32 evaluation of the QONNX spec's reference (written
// here from the spec's table of rounding modes), and the generated C must equal the interpreter bit
// for bit on the host, cortex-m3 (soft float) and rv32imc.

import { describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { describeMismatch, firstMismatch } from '../compiler/harness/compare.ts';
import { rng } from '../compiler/harness/inputs.ts';
import { runOnTarget } from '../compiler/harness/run_target.ts';
import type { HarnessModel } from '../compiler/harness/runner.ts';
import { interpret } from '../compiler/interpret.ts';
import { cloneGraph, type Graph, type TypedData } from '../compiler/ir.ts';
import { importOnnx } from '../compiler/readers/onnx/import.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { encodeOnnxModel, type NodeSpec, type TensorSpec } from '../compiler/readers/onnx/write.ts';
import { getTarget } from '../compiler/targets.ts';
import { workDir } from './support/differential.ts';
import { scaled } from './support/tier.ts';

const f = Math.fround;
const MODES = ['ROUND', 'CEIL', 'FLOOR', 'UP', 'DOWN', 'HALF_UP', 'HALF_DOWN'] as const;

/** The spec's rounding table (intquant_v1.md), independently of compiler/ops/quantize_static.ts. */
function round(v: number, mode: (typeof MODES)[number]): number {
  const s = Math.sign(v);
  const a = Math.abs(v);
  switch (mode) {
    case 'ROUND': {
      const fl = Math.floor(v);
      const d = v - fl;
      return d > 0.5 ? fl + 1 : d < 0.5 ? fl : fl % 2 === 0 ? fl : fl + 1;
    }
    case 'CEIL':
      return Math.ceil(v);
    case 'FLOOR':
      return Math.floor(v);
    case 'UP':
      return s * Math.ceil(a);
    case 'DOWN':
      return s * Math.floor(a);
    case 'HALF_UP':
      return s * Math.floor(a + 0.5);
    case 'HALF_DOWN':
      return s * Math.ceil(a - 0.5);
  }
}

interface Case {
  name: string;
  bytes: Uint8Array;
  x: Float32Array;
  reference: Float32Array;
}

function makeCase(seed: number): Case {
  const r = rng(seed * 31 + 7);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const n = int(8, 40);
  const nodes: NodeSpec[] = [];
  const inits: (TensorSpec & { name: string })[] = [];
  let cur = 'x';
  const pre: ((v: number) => number)[] = [];
  for (let j = 0, count = int(0, 3); j < count; j++) {
    const c = f(int(1, 4) * (r() < 0.5 ? 0.5 : 1.5) * (r() < 0.3 ? -1 : 1));
    const op = (['Mul', 'Add', 'Sub', 'Div'] as const)[int(0, 3)];
    const constFirst = (op === 'Sub' || op === 'Div') && r() < 0.4;
    inits.push({ name: `c${j}`, dtype: 'float32', shape: r() < 0.5 ? [] : [1], data: [c] });
    nodes.push({ op, inputs: constFirst ? [`c${j}`, cur] : [cur, `c${j}`], outputs: [`p${j}`] });
    cur = `p${j}`;
    pre.push((v) => {
      const [a, b] = constFirst ? [c, v] : [v, c];
      return f(op === 'Mul' ? a * b : op === 'Add' ? a + b : op === 'Sub' ? a - b : a / b);
    });
  }
  const bipolar = r() < 0.2;
  const scale = r() < 0.5 ? 2 ** int(-3, 1) : f(0.05 + r());
  const x = new Float32Array(n);
  let reference: Float32Array;
  if (bipolar) {
    inits.push({ name: 's', dtype: 'float32', shape: [], data: [scale] });
    nodes.push({ op: 'BipolarQuant', domain: 'onnx.brevitas', inputs: [cur, 's'], outputs: ['y'] });
    for (let i = 0; i < n; i++) x[i] = i % 5 === 0 ? 0 : f((r() * 2 - 1) * 4);
    reference = x.map((v) => f((pre.reduce((t, p) => p(t), v) >= 0 ? 1 : -1) * scale));
  } else {
    const signed = r() < 0.6;
    const narrow = r() < 0.4;
    const bits = int(signed ? 2 : 1, signed ? 8 : 7);
    const mode = MODES[int(0, MODES.length - 1)]!;
    const [qmin, qmax] = signed ? [narrow ? -(2 ** (bits - 1)) + 1 : -(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, narrow ? 2 ** bits - 2 : 2 ** bits - 1];
    // A zero point that keeps the codes q - zp within int8.
    const zp = signed ? (r() < 0.7 ? 0 : int(Math.max(-3, qmax - 127), Math.min(3, qmin + 128))) : int(Math.max(0, qmax - 127), Math.min(qmax, 128));
    inits.push(
      { name: 's', dtype: 'float32', shape: [], data: [scale] },
      { name: 'z', dtype: 'float32', shape: [], data: [zp] },
      { name: 'b', dtype: 'float32', shape: [], data: [bits] },
    );
    nodes.push({
      op: 'Quant',
      domain: r() < 0.5 ? 'onnx.brevitas' : 'qonnx.custom_op.general',
      inputs: [cur, 's', 'z', 'b'],
      outputs: ['y'],
      attrs: { signed: signed ? 1 : 0, narrow: narrow ? 1 : 0, rounding_mode: r() < 0.8 ? mode : mode.toLowerCase() },
    });
    // Values around ties (k + 1/2) * scale, exact ones, and random ones, before the pre-operations' effect.
    for (let i = 0; i < n; i++) x[i] = i % 3 === 0 ? f((int(-6, 6) + 0.5) * scale) : i % 3 === 1 ? f(int(-6, 6) * scale) : f((r() * 2 - 1) * 6 * scale);
    reference = x.map((v) => {
      let t = f(f(pre.reduce((a, p) => p(a), v) / scale) + zp);
      t = Math.min(qmax, Math.max(qmin, t));
      return f((round(t, mode) - zp) * scale);
    });
  }
  const bytes = encodeOnnxModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [n] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [n] }],
    initializers: inits,
    nodes,
  });
  return { name: `qonnx_${seed}`, bytes, x, reference };
}

describe('QONNX quantisers on activations', () => {
  const cases = Array.from({ length: scaled(80) }, (_, i) => makeCase(i));
  const graphs: { g: Graph; run: Map<string, TypedData>; out: Map<string, TypedData>; name: string }[] = [];

  it('the interpreter equals the spec for every rounding mode and parameter (ties included)', () => {
    const failures: string[] = [];
    for (const c of cases) {
      const g = prepareGraph(importOnnx(c.bytes, `${c.name}.onnx`));
      // The scalar ops are fused: one QuantizeStatic (and the DequantizeInt8 of the float output).
      expect(g.nodes.map((n) => n.op)).toEqual(['QuantizeStatic', 'DequantizeInt8']);
      const run = new Map<string, TypedData>([['x', c.x]]);
      const out = interpret(g, run);
      // Equal values; the one difference allowed is the sign of zero: the codes are integers, so a
      // value the spec's float reference rounds to -0 is +0 here (both dequantise to zero).
      const got = out.get(g.outputs[0]!)! as Float32Array;
      const i = c.reference.findIndex((v, k) => v !== got[k]);
      if (i >= 0) failures.push(`${c.name}: element ${i}: ${got[i]}, the spec gives ${c.reference[i]} (input ${c.x[i]})`);
      graphs.push({ g, run, out, name: c.name });
    }
    expect(failures).toEqual([]);
  });

  for (const target of ['host', 'cortex-m3', 'rv32imc']) {
    it(`the generated C equals the interpreter on ${target}`, async () => {
      const t = getTarget(target);
      const models: HarnessModel[] = graphs.map((m, i) => ({
        compiled: compileGraph(cloneGraph(m.g), { target: t, prefix: `q${i}`, verify: true, skipFitCheck: true }),
        runs: [m.run],
        dir: `q${i}`,
      }));
      const run = await runOnTarget(models, t, workDir(`qonnx-${target}`), { title: 'QONNX quantisers' });
      const failures: string[] = [];
      run.records.forEach((recs, i) => {
        for (const d of models[i]!.compiled.emitted.io.outputs) {
          const m = firstMismatch(recs[0]!.outputs.get(d.cname)!, graphs[i]!.out.get(d.name)!);
          if (m) failures.push(`${graphs[i]!.name} on ${target}: ${describeMismatch(d.name, 0, m)}`);
        }
      });
      expect(failures).toEqual([]);
      expect(run.records.length).toBe(80);
    });
  }
});

// ---- QONNX Trunc on activations ---------------------------------------------------------------
//
// x -> [Quant ->] Trunc -> y, with Trunc v1 (5 inputs: in/out bit widths) and v2 (6 inputs: out_scale),
// every rounding mode, signed/unsigned/narrow output ranges and nonzero zero points. The reference is
// a plain reading of trunc_v2.md's sample implementation in float32 (each step rounded once), with
// NumPy's rounding functions, which keep the sign of a zero result (np.round(-0.3) is -0.0).

/** NumPy's np.round / np.ceil / np.floor (and the QONNX table's other modes), keeping the sign of zero. */
function npRound(v: number, mode: (typeof MODES)[number]): number {
  const r = round(v, mode);
  return r === 0 ? v * 0 : r;
}

interface TruncCase extends Case {
  ops: string[];
  /** The same graph with x as an initializer (Quant and Trunc then fold at import). */
  constBytes: Uint8Array;
}

function makeTruncCase(seed: number): TruncCase {
  const r = rng(seed * 53 + 11);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const n = int(8, 40);
  const inits: (TensorSpec & { name: string })[] = [];
  const nodes: NodeSpec[] = [];
  const x = new Float32Array(n);
  const withQuant = seed % 4 !== 3; // every fourth case truncates a float activation directly
  const inBits = int(4, 8);
  const s = r() < 0.6 ? 2 ** int(-4, 0) : f(0.03 + r() * 0.5);
  let z = 0;
  let trInput = 'x';
  let xs: number[];
  if (withQuant) {
    // Quant: signed inBits codes, zero point 0 (its codes must fit int8), rounding ROUND.
    inits.push(
      { name: 'qs', dtype: 'float32', shape: [], data: [s] },
      { name: 'qz', dtype: 'float32', shape: [], data: [0] },
      { name: 'qb', dtype: 'float32', shape: [], data: [inBits] },
    );
    nodes.push({
      op: 'Quant',
      domain: 'qonnx.custom_op.general',
      inputs: ['x', 'qs', 'qz', 'qb'],
      outputs: ['q'],
      attrs: { signed: 1, narrow: 0, rounding_mode: 'ROUND' },
    });
    trInput = 'q';
    for (let i = 0; i < n; i++) x[i] = i % 2 === 0 ? f(int(-(2 ** inBits), 2 ** inBits) * 0.5 * s) : f((r() * 2 - 1) * 2 ** (inBits - 1) * 1.2 * s);
    const lo = -(2 ** (inBits - 1));
    const hi = 2 ** (inBits - 1) - 1;
    // Quant's float output (tritc gives +0 where the spec's reference gives -0: see above).
    xs = Array.from(x, (v) => f((round(Math.min(hi, Math.max(lo, f(v / s))), 'ROUND') - 0) * s) + 0);
  } else {
    z = int(-3, 3);
    for (let i = 0; i < n; i++) x[i] = i % 5 === 0 ? f(-0.25 * s) : f((r() * 2 - 1) * 2 ** inBits * s);
    xs = Array.from(x);
  }
  const v1 = r() < 0.5;
  const signed = r() < 0.7;
  const narrow = r() < 0.3;
  const outBits = int(2, inBits);
  const mode = (['ROUND', 'CEIL', 'FLOOR'] as const)[int(0, 2)];
  const k = int(0, 4);
  const outScale = v1 ? f(s * 2 ** (inBits - outBits)) : r() < 0.5 ? f(s * 2 ** k) : f(s * 2 ** k * 1.2);
  inits.push(
    { name: 's', dtype: 'float32', shape: [], data: [s] },
    { name: 'z', dtype: 'float32', shape: [], data: [z] },
    { name: 'ib', dtype: 'float32', shape: [], data: [inBits] },
  );
  inits.push({ name: 'os', dtype: 'float32', shape: [], data: [outScale] }, { name: 'ob', dtype: 'float32', shape: [], data: [outBits] });
  nodes.push({
    op: 'Trunc',
    domain: r() < 0.5 ? 'onnx.brevitas' : 'qonnx.custom_op.general',
    inputs: v1 ? [trInput, 's', 'z', 'ib', 'ob'] : [trInput, 's', 'z', 'ib', 'os', 'ob'],
    outputs: ['y'],
    attrs: { signed: signed ? 1 : 0, narrow: narrow ? 1 : 0, rounding_mode: r() < 0.8 ? mode : mode.toLowerCase() },
  });
  // The spec's steps. v1 has no out_scale input: its truncation scale is 2^(in - out) and its output
  // scale scale * 2^(in - out), which v2's formula gives back for that out_scale.
  const ts = v1 ? 2 ** (inBits - outBits) : 2 ** npRound(Math.log2(outScale / s), 'ROUND');
  const [qmin, qmax] = signed
    ? [narrow ? -(2 ** (outBits - 1)) + 1 : -(2 ** (outBits - 1)), 2 ** (outBits - 1) - 1]
    : [0, narrow ? 2 ** outBits - 2 : 2 ** outBits - 1];
  const reference = Float32Array.from(xs, (v) => {
    let y = f(v / s);
    y = f(y + z);
    y = npRound(y, 'ROUND');
    y = f(y / ts);
    y = y > qmax ? qmax : y;
    y = y < qmin ? qmin : y;
    y = npRound(y, mode);
    const ozp = f(z / ts);
    y = f(y - ozp);
    return f(y * outScale);
  });
  const bytes = encodeOnnxModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [n] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [n] }],
    initializers: inits,
    nodes,
  });
  const constBytes = encodeOnnxModel({
    opset: 13,
    inputs: [],
    outputs: [{ name: 'y', dtype: 'float32', shape: [n] }],
    initializers: [{ name: 'x', dtype: 'float32', shape: [n], data: Array.from(x) }, ...inits],
    nodes,
  });
  return {
    name: `trunc_${seed}_${v1 ? 'v1' : 'v2'}_${mode}`,
    bytes,
    constBytes,
    x,
    reference,
    ops: withQuant ? ['QuantizeStatic', 'DequantizeInt8', 'TruncStatic'] : ['TruncStatic'],
  };
}

describe('QONNX Trunc on activations', () => {
  const cases = Array.from({ length: scaled(60) }, (_, i) => makeTruncCase(i));
  const graphs: { g: Graph; run: Map<string, TypedData>; out: Map<string, TypedData>; name: string }[] = [];

  it('the interpreter equals the spec bit for bit (v1 and v2, every mode, after Quant or on floats)', () => {
    const failures: string[] = [];
    for (const c of cases) {
      const g = prepareGraph(importOnnx(c.bytes, `${c.name}.onnx`));
      expect(g.nodes.map((n) => n.op)).toEqual(c.ops);
      const run = new Map<string, TypedData>([['x', c.x]]);
      const out = interpret(g, run);
      const got = out.get(g.outputs[0]!)! as Float32Array;
      const i = c.reference.findIndex((v, k) => !Object.is(v, got[k]));
      if (i >= 0) failures.push(`${c.name}: element ${i}: ${got[i]}, the spec gives ${c.reference[i]} (input ${c.x[i]})`);
      graphs.push({ g, run, out, name: c.name });
    }
    expect(failures).toEqual([]);
  });

  it('a constant Trunc folds to the same values as the activation path', () => {
    for (const c of cases.slice(0, 12)) {
      const g = prepareGraph(importOnnx(c.bytes, `${c.name}.onnx`));
      const out = interpret(g, new Map([['x', c.x]])).get(g.outputs[0]!)! as Float32Array;
      const gc = prepareGraph(importOnnx(c.constBytes, `${c.name}_const.onnx`));
      const folded = interpret(gc, new Map()).get(gc.outputs[0]!)! as Float32Array;
      expect(Array.from(folded).map((v) => v + 0)).toEqual(Array.from(out).map((v) => v + 0));
    }
  });

  it('reports a wrong input count and an output width beyond float32; a 32-bit input width is fine', () => {
    const model = (inputs: string[], ib: number, ob: number) =>
      encodeOnnxModel({
        opset: 13,
        inputs: [{ name: 'x', dtype: 'float32', shape: [4] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [4] }],
        initializers: [
          { name: 's', dtype: 'float32', shape: [], data: [0.25] },
          { name: 'z', dtype: 'float32', shape: [], data: [0] },
          { name: 'ib', dtype: 'float32', shape: [], data: [ib] },
          { name: 'ob', dtype: 'float32', shape: [], data: [ob] },
        ],
        nodes: [{ op: 'Trunc', domain: 'qonnx.custom_op.general', inputs, outputs: ['y'] }],
      });
    expect(() => importOnnx(model(['x', 's', 'z', 'ib'], 8, 4), 'trunc4.onnx')).toThrow(/has 4 inputs; QONNX Trunc takes 5 .* or 6/);
    expect(() => importOnnx(model(['x', 's', 'z', 'ib', 'ob'], 32, 30), 'trunc30.onnx')).toThrow(/output_bit_width 30 must be an integer from 1 to 24/);
    // v1, 32-bit accumulator truncated to 8 bits: the truncation scale is 2^24, FLOOR by default
    const g = importOnnx(model(['x', 's', 'z', 'ib', 'ob'], 32, 8), 'trunc32.onnx');
    const y = interpret(g, new Map([['x', Float32Array.of(2 ** 24, -(2 ** 22), 2 ** 40, -(2 ** 40))]])).get('y') as Float32Array;
    // x / 0.25 / 2^24 = 4, -0.25 -> floor -1, 2^18 -> clamped 127, -> -128; times out scale 0.25 * 2^24
    expect(Array.from(y)).toEqual([4, -1, 127, -128].map((v) => v * 2 ** 22));
  });

  for (const target of ['host', 'cortex-m3']) {
    it(`the generated C equals the interpreter on ${target}`, async () => {
      const t = getTarget(target);
      const models: HarnessModel[] = graphs.map((m, i) => ({
        compiled: compileGraph(cloneGraph(m.g), { target: t, prefix: `t${i}`, verify: true, skipFitCheck: true }),
        runs: [m.run],
        dir: `t${i}`,
      }));
      const run = await runOnTarget(models, t, workDir(`qonnx-trunc-${target}`), { title: 'QONNX Trunc' });
      const failures: string[] = [];
      run.records.forEach((recs, i) => {
        for (const d of models[i]!.compiled.emitted.io.outputs) {
          const m = firstMismatch(recs[0]!.outputs.get(d.cname)!, graphs[i]!.out.get(d.name)!);
          if (m) failures.push(`${graphs[i]!.name} on ${target}: ${describeMismatch(d.name, 0, m)}`);
        }
      });
      expect(failures).toEqual([]);
      expect(run.records.length).toBe(cases.length);
    });
  }
});
