// The C of MaxPool's Indices output and of blocked (De)QuantizeLinear against the interpreter, bit
// for bit on the host: every element type, 1-D to 3-D windows with padding, strides, dilations and
// both storage orders; blocks along the first, a middle and the last axis, with a short last block.
// (test/onnx-compute.test.ts checks the values by hand; the ONNX backend tests check them against ONNX.)

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { readModel } from '../compiler/readers/native/read.ts';
import { writeModel, type ModelSpec } from '../compiler/readers/native/write.ts';
import { describeMismatch, firstMismatch } from '../compiler/harness/compare.ts';
import { randomRuns, rng } from '../compiler/harness/inputs.ts';
import { runOnTarget } from '../compiler/harness/run_target.ts';
import type { HarnessModel } from '../compiler/harness/runner.ts';
import { interpret } from '../compiler/interpret.ts';
import { cloneGraph, type DType, type Graph, type TypedData } from '../compiler/ir.ts';
import { getTarget } from '../compiler/targets.ts';
import { oneNode } from './support/run_model.ts';
import { workDir } from './support/differential.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';

const f32 = (shape: number[], data?: number[]) => ({ dtype: 'float32' as const, shape, ...(data ? { data: Float32Array.from(data) } : {}) });
const typed = (dtype: DType, shape: number[], data: number[]) => ({
  dtype,
  shape,
  data: dtype === 'int8' ? Int8Array.from(data) : dtype === 'uint8' ? Uint8Array.from(data) : Int32Array.from(data),
});

function specs(): ModelSpec[] {
  const out: ModelSpec[] = [];
  const pool = (dtype: DType, shape: number[], attrs: Record<string, number | number[]>) => {
    const s = oneNode('MaxPool', { x: { dtype, shape } }, attrs, ['y', 'i']);
    out.push({ ...s, name: `maxpool-${out.length}` });
  };
  for (const order of [0, 1]) {
    pool('float32', [2, 3, 7], { kernel_shape: [3], strides: [2], pads: [1, 1], storage_order: order });
    pool('float32', [1, 2, 5, 6], { kernel_shape: [2, 3], strides: [1, 2], pads: [1, 0, 0, 1], dilations: [2, 1], storage_order: order });
    pool('int8', [1, 2, 4, 5], { kernel_shape: [2, 2], pads: [1, 1, 1, 1], storage_order: order });
    pool('uint8', [2, 1, 5, 4], { kernel_shape: [3, 2], strides: [2, 2], ceil_mode: 1, storage_order: order });
    pool('float32', [1, 1, 3, 4, 5], { kernel_shape: [2, 2, 3], strides: [1, 2, 2], pads: [0, 1, 1, 1, 0, 1], storage_order: order });
  }
  const r = rng(99);
  const scales = (n: number) => Array.from({ length: n }, () => Math.fround(0.01 + r() * 0.2));
  const codes = (dtype: DType, n: number) =>
    Array.from({ length: n }, () =>
      dtype === 'uint8' ? Math.floor(r() * 256) : dtype === 'int8' ? Math.floor(r() * 256) - 128 : Math.floor(r() * 2000) - 1000,
    );
  // [x shape, axis, block, parameter shape]
  const cases: [number[], number, number, number[]][] = [
    [[5, 3], 0, 2, [3, 3]],
    [[2, 7, 3], 1, 3, [2, 3, 3]],
    [[2, 3, 8], 2, 4, [2, 3, 2]],
    [[2, 3, 5], -1, 2, [2, 3, 3]],
  ];
  for (const [shape, axis, block, ps] of cases) {
    const n = ps.reduce((a, b) => a * b, 1);
    for (const dtype of ['int8', 'uint8'] as const) {
      const q = oneNode(
        'QuantizeLinear',
        {
          x: f32(shape),
          s: f32(ps, scales(n)),
          z: typed(
            dtype,
            ps,
            codes(dtype, n).map((v) => (dtype === 'int8' ? v >> 3 : v >> 2)),
          ),
        },
        { axis, block_size: block },
      );
      out.push({ ...q, name: `qblocked-${out.length}` });
    }
    for (const dtype of ['int8', 'uint8', 'int32'] as const) {
      const d = oneNode('DequantizeLinear', { x: { dtype, shape }, s: f32(ps, scales(n)), z: typed(dtype, ps, codes(dtype, n)) }, { axis, block_size: block });
      out.push({ ...d, name: `dqblocked-${out.length}` });
    }
  }
  return out;
}

describe('MaxPool Indices and blocked quantisation in C', () => {
  it('the generated C equals the interpreter on the host', async () => {
    const dir = workDir('indices-blocked');
    const graphs: { g: Graph; runs: Map<string, TypedData>[]; outs: Map<string, TypedData>[] }[] = specs().map((s, i) => {
      const g = prepareGraph(readModel(writeModel(join(dir, `spec${i}`), s)));
      const runs = randomRuns(g, 2, 7 + i);
      return { g, runs, outs: runs.map((run) => interpret(g, run)) };
    });
    const t = getTarget('host');
    const models: HarnessModel[] = graphs.map((m, i) => ({
      compiled: compileGraph(cloneGraph(m.g), { target: t, prefix: `m${i}`, verify: true, skipFitCheck: true }),
      runs: m.runs,
      dir: `m${i}`,
    }));
    const run = await runOnTarget(models, t, join(dir, 'host'), { title: 'MaxPool Indices, blocked quantisation' });
    const failures: string[] = [];
    run.records.forEach((recs, i) => {
      recs.forEach((rec, k) => {
        for (const d of models[i]!.compiled.emitted.io.outputs) {
          const m = firstMismatch(rec.outputs.get(d.cname)!, graphs[i]!.outs[k]!.get(d.name)!);
          if (m) failures.push(`${graphs[i]!.g.name ?? i}: ${describeMismatch(d.name, k, m)}`);
        }
      });
    });
    expect(failures).toEqual([]);
    expect(run.records.length).toBe(graphs.length);
  });
});
