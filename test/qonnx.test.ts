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
import { importOnnx } from '../compiler/onnx/import.ts';
import { encodeOnnxModel, type NodeSpec, type TensorSpec } from '../compiler/onnx/write.ts';
import { getTarget } from '../compiler/targets.ts';
import { workDir } from './support/differential.ts';

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
    inits.push({ name: 's', dtype: 'float32', shape: [], data: [scale] }, { name: 'z', dtype: 'float32', shape: [], data: [zp] }, { name: 'b', dtype: 'float32', shape: [], data: [bits] });
    nodes.push({ op: 'Quant', domain: r() < 0.5 ? 'onnx.brevitas' : 'qonnx.custom_op.general', inputs: [cur, 's', 'z', 'b'], outputs: ['y'], attrs: { signed: signed ? 1 : 0, narrow: narrow ? 1 : 0, rounding_mode: r() < 0.8 ? mode : mode.toLowerCase() } });
    // Values around ties (k + 1/2) * scale, exact ones, and random ones, before the pre-operations' effect.
    for (let i = 0; i < n; i++) x[i] = i % 3 === 0 ? f((int(-6, 6) + 0.5) * scale) : i % 3 === 1 ? f(int(-6, 6) * scale) : f((r() * 2 - 1) * 6 * scale);
    reference = x.map((v) => {
      let t = f(f(pre.reduce((a, p) => p(a), v) / scale) + zp);
      t = Math.min(qmax, Math.max(qmin, t));
      return f((round(t, mode) - zp) * scale);
    });
  }
  const bytes = encodeOnnxModel({ opset: 13, inputs: [{ name: 'x', dtype: 'float32', shape: [n] }], outputs: [{ name: 'y', dtype: 'float32', shape: [n] }], initializers: inits, nodes });
  return { name: `qonnx_${seed}`, bytes, x, reference };
}

describe('QONNX quantisers on activations', () => {
  const cases = Array.from({ length: 80 }, (_, i) => makeCase(i));
  const graphs: { g: Graph; run: Map<string, TypedData>; out: Map<string, TypedData>; name: string }[] = [];

  it('the interpreter equals the spec for every rounding mode and parameter (ties included)', () => {
    const failures: string[] = [];
    for (const c of cases) {
      const g = importOnnx(c.bytes, `${c.name}.onnx`);
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
      const models: HarnessModel[] = graphs.map((m, i) => ({ compiled: compileGraph(cloneGraph(m.g), { target: t, prefix: `q${i}`, verify: true, skipFitCheck: true }), runs: [m.run], dir: `q${i}` }));
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
