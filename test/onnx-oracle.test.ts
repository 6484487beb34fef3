// onnxruntime as the oracle: random ONNX graphs (QDQ activations, ternary and binary weights given as
// exact floats or DequantizeLinear of int8 codes, MatMul and Gemm, bias, Relu, Softmax, a tail of
// Max/Min/Sum, a comparison into Where, or Softmax written out with ReduceMax/Exp/ReduceSum...) run by
// onnxruntime-node and by tritc's interpreter, which must agree within the backend tests' tolerance;
// then the generated C must equal the interpreter bit for bit on the host, all graphs in one program.

import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { compileGraph } from '../compiler/compile.ts';
import { describeMismatch, firstMismatch } from '../compiler/harness/compare.ts';
import { randomRuns } from '../compiler/harness/inputs.ts';
import type { HarnessModel } from '../compiler/harness/runner.ts';
import { interpret } from '../compiler/interpret.ts';
import { cloneGraph, type Graph, type TypedData } from '../compiler/ir.ts';
import { importOnnx } from '../compiler/readers/onnx/import.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { encodeOnnxModel } from '../compiler/readers/onnx/write.ts';
import { getTarget } from '../compiler/targets.ts';
import { compareTolerance } from './support/conformance.ts';
import { runInPrograms } from '../compiler/harness/run_target.ts';
import { workDir } from './support/differential.ts';
import { randomOnnxModel } from '../bench/gen/onnx_random.ts';
import { scaled } from './support/tier.ts';

const COUNT = scaled(120);
// onnxruntime sums in float32 in its own order; tritc's low-bit layers sum exactly. Where terms
// cancel, onnxruntime leaves rounding residue of about 1 ulp of the terms (1e-7 for terms near 1),
// so the absolute tolerance is 1e-5 rather than the backend tests' 1e-7.
const RTOL = 1e-3;
const ATOL = 1e-5;

describe('onnxruntime oracle on random ONNX graphs', () => {
  const graphs: { name: string; g: Graph; run: Map<string, TypedData>; out: Map<string, TypedData> }[] = [];

  it(`the interpreter agrees with onnxruntime on ${COUNT} random graphs, and low-bit layers are detected`, async () => {
    const failures: string[] = [];
    let lowBit = 0;
    let floatCompared = 0;
    for (let seed = 0; seed < COUNT; seed++) {
      const m = randomOnnxModel(seed);
      const bytes = encodeOnnxModel(m.spec);
      const g = prepareGraph(importOnnx(bytes, `${m.name}.onnx`));
      lowBit += g.nodes.filter((n) => n.op === 'TernaryLinear' || n.op === 'BinaryLinear').length;
      const run = randomRuns(g, 1, 500 + seed)[0]!;
      // Graph optimisations off: onnxruntime would fuse QDQ patterns into integer kernels that requantise
      // differently; the oracle is the ONNX semantics, op by op.
      const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
      const x = run.get('x') as Float32Array;
      const res = await session.run({ x: new ort.Tensor('float32', x, m.shape) });
      await session.release();
      const want = res.y!.data as Float32Array;
      const out = interpret(g, run);
      const got = out.get(g.outputs[0]!)!;
      const bad = compareTolerance(got, want, RTOL, ATOL);
      if (bad) failures.push(`${m.name} (opset ${m.spec.opset}; ${m.ops.join(' ')}): ${bad}`);
      graphs.push({ name: m.name, g, run, out });
      // The same file with detection off: float32 MatMul/Gemm/Conv and the ONNX QuantizeLinear and
      // DequantizeLinear ops of the op library, checked against onnxruntime the same way.
      {
        const gf = prepareGraph(importOnnx(bytes, `${m.name}.onnx`, { lowBit: false }), { lowBit: false });
        expect(gf.nodes.some((n) => n.op === 'TernaryLinear' || n.op === 'BinaryLinear' || n.op === 'TernaryConv' || n.op === 'BinaryConv')).toBe(false);
        const badf = compareTolerance(interpret(gf, run).get(gf.outputs[0]!)!, want, RTOL, ATOL);
        if (badf) failures.push(`${m.name} with --no-lowbit: ${badf}`);
        floatCompared++;
      }
    }
    expect(failures).toEqual([]);
    // Every graph was also checked with detection off.
    expect(floatCompared).toBe(COUNT);
    // Every graph has at least one MatMul/Gemm on a ternary or binary weight after QDQ.
    expect(lowBit).toBeGreaterThanOrEqual(COUNT);
  });

  async function bitExact(target: string, pick: (i: number) => boolean): Promise<string[]> {
    const t = getTarget(target);
    const chosen = graphs.filter((_, i) => pick(i));
    const models: HarnessModel[] = chosen.map((m, i) => ({
      compiled: compileGraph(cloneGraph(m.g), { target: t, prefix: `r${i}`, verify: true, skipFitCheck: true }),
      runs: [m.run],
      dir: `r${i}`,
    }));
    const run = await runInPrograms(models, t, workDir(`onnx-oracle-${target}`), 'random ONNX graphs');
    const failures: string[] = [];
    run.records.forEach((recs, i) => {
      for (const d of models[i]!.compiled.emitted.io.outputs) {
        const m = firstMismatch(recs[0]!.outputs.get(d.cname)!, chosen[i]!.out.get(d.name)!);
        if (m) failures.push(`${chosen[i]!.name} on ${target}: ${describeMismatch(d.name, 0, m)}`);
      }
    });
    expect(run.records.length).toBe(chosen.length);
    return failures;
  }

  it('the generated C matches the interpreter on the host, all graphs in one program', async () => {
    expect(graphs.length).toBe(COUNT);
    expect(await bitExact('host', () => true)).toEqual([]);
  });

  it('the generated C matches the interpreter on cortex-m3 (soft float) and rv32imc, every third graph', async () => {
    expect(await bitExact('cortex-m3', (i) => i % 3 === 0)).toEqual([]);
    expect(await bitExact('rv32imc', (i) => i % 3 === 1)).toEqual([]);
  });
});
